//===- SafePath.cpp - data paths that stay inside their folder ------------===//
//
// Text checks first (relative, no `..`), then the file system: checks look
// at each component without following links (lstat), and reads open each
// component with O_NOFOLLOW relative to the folder opened before it, so that
// what is read is what was checked even if the folder changes meanwhile.
//
//===----------------------------------------------------------------------===//

#include "distopt/Support/SafePath.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace llvm;

static Error pathError(std::errc code, const Twine &message) {
  return createStringError(std::make_error_code(code), message);
}

Error distopt::checkRelativeDataPath(StringRef location) {
  if (location.empty())
    return pathError(std::errc::invalid_argument, "is empty");
  if (location.contains('\0'))
    return pathError(std::errc::invalid_argument, "contains a NUL character");
  if (sys::path::is_absolute(location) || location.starts_with("/") ||
      location.starts_with("\\") || sys::path::has_root_name(location))
    return pathError(std::errc::permission_denied,
                     "is an absolute path; data files must lie in the "
                     "model's folder");
  for (StringRef component :
       make_range(sys::path::begin(location), sys::path::end(location)))
    if (component == "..")
      return pathError(std::errc::permission_denied,
                       "leaves the model's folder through '..'");
  return Error::success();
}

/// The components of a checked relative path, without `.`.
static SmallVector<StringRef> getComponents(StringRef location) {
  SmallVector<StringRef> parts;
  for (StringRef component :
       make_range(sys::path::begin(location), sys::path::end(location)))
    if (component != ".")
      parts.push_back(component);
  return parts;
}

static Error symlinkError(StringRef path) {
  return pathError(std::errc::permission_denied,
                   "goes through the symbolic link '" + path +
                       "'; data files must be regular files in the model's "
                       "folder");
}

Expected<distopt::DataFileStatus> distopt::checkDataPath(StringRef baseDir,
                                                         StringRef location) {
  if (Error e = checkRelativeDataPath(location))
    return std::move(e);
  DataFileStatus result;
  SmallString<256> path(baseDir);
  for (StringRef component : getComponents(location)) {
    sys::path::append(path, component);
    sys::fs::file_status status;
    if (sys::fs::status(path, status, /*follow=*/false))
      return result; // Absent: allowed for shape-only models.
    if (sys::fs::is_symlink_file(status))
      return symlinkError(path);
  }
  sys::fs::file_status status;
  if (sys::fs::status(path, status, /*follow=*/false))
    return result;
  if (!sys::fs::is_regular_file(status))
    return pathError(std::errc::permission_denied,
                     "is not a regular file ('" + path + "')");
  result.exists = true;
  result.size = status.getSize();
  return result;
}

/// Opens `location` below `baseDir` for reading, one component at a time,
/// without following links. Returns a descriptor of a regular file.
static Expected<int> openBelow(StringRef baseDir, StringRef location) {
  SmallString<256> path(baseDir);
  int dir = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0)
    return pathError(std::errc::no_such_file_or_directory,
                     "cannot be opened: the folder '" + path +
                         "': " + std::strerror(errno));
  SmallVector<StringRef> parts = getComponents(location);
  for (size_t i = 0; i < parts.size(); ++i) {
    bool last = i + 1 == parts.size();
    sys::path::append(path, parts[i]);
    // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused
    // below as not a regular file.
    int flags =
        O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (last ? O_NONBLOCK : O_DIRECTORY);
    int fd = ::openat(dir, parts[i].str().c_str(), flags);
    int openErrno = errno;
    struct stat linkStatus;
    bool isLink = fd < 0 &&
                  ::fstatat(dir, parts[i].str().c_str(), &linkStatus,
                            AT_SYMLINK_NOFOLLOW) == 0 &&
                  S_ISLNK(linkStatus.st_mode);
    ::close(dir);
    if (isLink)
      return symlinkError(path);
    if (fd < 0)
      return pathError(std::errc::no_such_file_or_directory,
                       "cannot be opened ('" + path +
                           "'): " + std::strerror(openErrno));
    dir = fd;
  }
  struct stat status;
  if (::fstat(dir, &status) != 0 || !S_ISREG(status.st_mode)) {
    ::close(dir);
    return pathError(std::errc::permission_denied,
                     "is not a regular file ('" + path + "')");
  }
  return dir;
}

Expected<std::unique_ptr<MemoryBuffer>>
distopt::readDataFileSlice(StringRef baseDir, StringRef location,
                           uint64_t offset, uint64_t length) {
  if (Error e = checkRelativeDataPath(location))
    return std::move(e);
  Expected<int> fd = openBelow(baseDir, location);
  if (!fd)
    return fd.takeError();
  struct stat status;
  uint64_t size = ::fstat(*fd, &status) == 0 ? uint64_t(status.st_size) : 0;
  if (offset > size || length > size - offset) {
    ::close(*fd);
    return pathError(std::errc::invalid_argument,
                     "asks for bytes " + Twine(offset) + ".." +
                         Twine(offset + length) + " of a file of " +
                         Twine(size) + " bytes");
  }
  SmallString<256> path(baseDir);
  sys::path::append(path, location);
  ErrorOr<std::unique_ptr<MemoryBuffer>> buffer =
      MemoryBuffer::getOpenFileSlice(sys::fs::convertFDToNativeFile(*fd), path,
                                     length, offset);
  ::close(*fd);
  if (!buffer)
    return pathError(std::errc::io_error, "cannot be read ('" + path + "'): " +
                                              buffer.getError().message());
  return std::move(*buffer);
}

Error distopt::checkPlainFileName(StringRef name) {
  if (name.empty())
    return pathError(std::errc::invalid_argument, "is empty");
  if (name == "." || name == "..")
    return pathError(std::errc::permission_denied, "names a folder");
  if (name.contains('\0'))
    return pathError(std::errc::invalid_argument, "contains a NUL character");
  if (name.find_first_of("/\\") != StringRef::npos)
    return pathError(std::errc::permission_denied,
                     "contains a path separator; it must be a plain file "
                     "name");
  return Error::success();
}
