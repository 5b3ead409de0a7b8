//===- FileIO.cpp - Whole-file reads for the runtime ----------------------===//

#include "FileIO.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace dlc {

Expected<std::vector<uint8_t>> readFileBytes(const std::string &path, uint64_t maxBytes) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return Status::error("cannot open '" + path + "': " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return Status::error("cannot read '" + path + "': " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::error("'" + path + "' is not a regular file");
  }
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size > maxBytes) {
    ::close(fd);
    return Status::error("'" + path + "' has " + std::to_string(size) +
                         " bytes, more than the limit of " + std::to_string(maxBytes));
  }
  std::vector<uint8_t> bytes(size);
  uint64_t done = 0;
  while (done < size) {
    ssize_t n = ::read(fd, bytes.data() + done, size - done);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
      continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return Status::error("cannot read '" + path + "': " + std::strerror(err));
    }
    if (n == 0)
      break; // The file shrank while it was read.
    done += static_cast<uint64_t>(n);
  }
  ::close(fd);
  bytes.resize(done);
  return bytes;
}

} // namespace dlc
