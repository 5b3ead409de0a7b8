//===- KernelLibrary.h - Load a CPU code section ----------------*- C++ -*-===//
#ifndef DLC_RUNTIME_KERNELLIBRARY_H
#define DLC_RUNTIME_KERNELLIBRARY_H

#include "dlc/status.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace dlc {

/// The CPU kernel entry point (docs/architecture.md, "Kernel ABI").
using KernelFn = void (*)(void **args, int64_t wg, int64_t nwg);

/// An artifact's ELF shared object, loaded from memory (memfd_create + dlopen) so the
/// artifact needs no file next to it.
class KernelLibrary {
public:
  /// Loads `code`, which must be an ELF shared object for this machine.
  static Expected<std::unique_ptr<KernelLibrary>> load(const std::vector<uint8_t> &code);
  ~KernelLibrary();
  KernelLibrary(const KernelLibrary &) = delete;
  KernelLibrary &operator=(const KernelLibrary &) = delete;

  /// The kernel exported as `symbol`; an error names `kernel` and the symbol if missing.
  /// The entry point `symbol` of `kernel`, whose code must have been compiled for
  /// `signature` (artifact::kernelSignatureText): the global `<symbol>_signature` holds it.
  Expected<KernelFn> lookup(const std::string &kernel, const std::string &symbol,
                            const std::string &signature) const;

private:
  KernelLibrary() = default;
  /// Points every micro-kernel the code section lists (`dlc_ukernels`, Ukernels.h) at
  /// the runtime's implementation.
  Status bindUkernels();
  // The memfd stays open while the library is loaded: dlopen matches libraries by path,
  // so a reused "/proc/self/fd/N" would otherwise return a stale library.
  int fd_ = -1;
  void *handle_ = nullptr;
};

} // namespace dlc

#endif // DLC_RUNTIME_KERNELLIBRARY_H
