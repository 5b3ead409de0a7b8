//===- KernelLibrary.cpp - Load a CPU code section as a shared object -----===//

#include "KernelLibrary.h"

#include "Ukernels.h"

#include <cerrno>
#include <cstring>
#include <dlfcn.h>
#include <sys/mman.h>
#include <unistd.h>

namespace dlc {

Expected<std::unique_ptr<KernelLibrary>> KernelLibrary::load(const std::vector<uint8_t> &code) {
  if (code.size() < 4 || std::memcmp(code.data(),
                                     "\x7f"
                                     "ELF",
                                     4) != 0)
    return Status::error("artifact: the code section is not an ELF shared object");
  std::unique_ptr<KernelLibrary> lib(new KernelLibrary());
  lib->fd_ = ::memfd_create("dlc-kernels", MFD_CLOEXEC);
  if (lib->fd_ < 0)
    return Status::error(std::string("cannot create an in-memory file for the kernels: ") +
                         std::strerror(errno));
  for (size_t done = 0; done < code.size();) {
    ssize_t n = ::write(lib->fd_, code.data() + done, code.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return Status::error(std::string("cannot write the kernels to memory: ") +
                           std::strerror(errno));
    done += n;
  }
  std::string path = "/proc/self/fd/" + std::to_string(lib->fd_);
  lib->handle_ = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib->handle_) {
    const char *why = ::dlerror();
    return Status::error(std::string("artifact: cannot load the code section: ") +
                         (why ? why : "unknown dlopen error"));
  }
  if (Status s = lib->bindUkernels(); !s.isOk())
    return s;
  return lib;
}

Status KernelLibrary::bindUkernels() {
  const auto *list = static_cast<const char *>(::dlsym(handle_, "dlc_ukernels"));
  if (!list)
    return Status::ok();
  // "name,name,...": bounded, since the text comes from the artifact.
  std::string names(list, ::strnlen(list, 4096));
  for (size_t start = 0; start < names.size();) {
    size_t end = names.find(',', start);
    if (end == std::string::npos)
      end = names.size();
    std::string name = names.substr(start, end - start);
    start = end + 1;
    if (name.empty())
      continue;
    void *impl = ukernels::lookup(name.c_str());
    if (!impl)
      return Status::error("artifact: the kernels call micro-kernel '" + name +
                           "', which this runtime does not have (built by a newer dlc?)");
    auto **slot = static_cast<void **>(::dlsym(handle_, (name + "_ptr").c_str()));
    if (!slot)
      return Status::error("artifact: the code section lists micro-kernel '" + name +
                           "' but has no '" + name + "_ptr' to bind it");
    *slot = impl;
  }
  return Status::ok();
}

KernelLibrary::~KernelLibrary() {
  if (handle_)
    ::dlclose(handle_);
  if (fd_ >= 0)
    ::close(fd_);
}

Expected<KernelFn> KernelLibrary::lookup(const std::string &kernel, const std::string &symbol,
                                         const std::string &signature) const {
  void *fn = ::dlsym(handle_, symbol.c_str());
  if (!fn)
    return Status::error("artifact: kernel '" + kernel + "' has no symbol '" + symbol +
                         "' in the code section");
  // The code section is trusted as far as the checksum goes; the table around it is
  // checked against it. strncmp reads at most the expected text and its NUL.
  const auto *compiled =
      static_cast<const char *>(::dlsym(handle_, (symbol + "_signature").c_str()));
  if (!compiled || std::strncmp(compiled, signature.c_str(), signature.size() + 1) != 0)
    return Status::error("artifact: the code of kernel '" + kernel + "' (symbol '" + symbol +
                         "') was not compiled for the buffers the artifact gives it");
  return reinterpret_cast<KernelFn>(fn);
}

} // namespace dlc
