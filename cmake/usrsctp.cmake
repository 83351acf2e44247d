# usrsctp as ifmesh links it: Debian's 0.9.5.0 with the patches in third_party/usrsctp/, built as
# a static, position-independent library by scripts/build-usrsctp.sh (scripts/install-deps.sh
# runs it). Debian's unpatched libusrsctp stalls an association for good after some losses (see
# third_party/usrsctp/README.md), so the build does not fall back to it.
set(IFMESH_USRSCTP_DIR "${CMAKE_CURRENT_SOURCE_DIR}/.deps/usrsctp"
    CACHE PATH "Prefix of the patched usrsctp built by scripts/build-usrsctp.sh")
find_library(IFMESH_USRSCTP_LIBRARY NAMES libusrsctp.a PATHS "${IFMESH_USRSCTP_DIR}/lib"
             NO_DEFAULT_PATH NO_CACHE)
find_path(IFMESH_USRSCTP_INCLUDE_DIR usrsctp.h PATHS "${IFMESH_USRSCTP_DIR}/include"
          NO_DEFAULT_PATH NO_CACHE)
if(NOT IFMESH_USRSCTP_LIBRARY OR NOT IFMESH_USRSCTP_INCLUDE_DIR)
  message(FATAL_ERROR "the patched usrsctp is not in ${IFMESH_USRSCTP_DIR}: run "
                      "scripts/build-usrsctp.sh (scripts/install-deps.sh runs it), or set "
                      "IFMESH_USRSCTP_DIR to where it installed")
endif()
add_library(ifmesh_usrsctp STATIC IMPORTED)
set_target_properties(ifmesh_usrsctp PROPERTIES
  IMPORTED_LOCATION "${IFMESH_USRSCTP_LIBRARY}"
  INTERFACE_INCLUDE_DIRECTORIES "${IFMESH_USRSCTP_INCLUDE_DIR}"
  INTERFACE_LINK_LIBRARIES Threads::Threads)
