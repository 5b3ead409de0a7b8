# find_package(dlc) for users' CMake projects: provides the imported target dlc::dlc
# (headers dlc/dlc.h and dlc/runtime.h, library libdlc).
include("${CMAKE_CURRENT_LIST_DIR}/dlcTargets.cmake")
