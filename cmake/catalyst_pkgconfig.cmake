# catalyst.pc: the same library for builds that do not use CMake. Relocatable: paths are
# relative to the .pc file (${pcfiledir}), so `cmake --install --prefix DIR` may choose DIR.
#
# Cflags carry the public definitions (Asio and Beast are compiled inside libcatalyst, see
# docs/packaging.md). Boost ships no .pc files: its libraries are named directly.
# Static libcatalyst: OpenSSL, Boost.JSON, Boost.URL and threads are in Requires/Libs (every
# user links them); shared: they are private (libcatalyst.so carries them).

set(_prefix_probe "/prefix-probe")
foreach(_dir LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${_dir}}")
    set(CATALYST_PC_${_dir} "${CMAKE_INSTALL_${_dir}}")
  else()
    set(CATALYST_PC_${_dir} "\${prefix}/${CMAKE_INSTALL_${_dir}}")
  endif()
endforeach()
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(CATALYST_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")  # not relocatable when the libdir is absolute
else()
  file(RELATIVE_PATH _to_prefix "${_prefix_probe}/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "${_prefix_probe}")
  string(REGEX REPLACE "/$" "" _to_prefix "${_to_prefix}")
  set(CATALYST_PC_PREFIX "\${pcfiledir}/${_to_prefix}")
endif()

set(_cflags "")
foreach(_def ${CATALYST_PUBLIC_DEFINITIONS})
  string(APPEND _cflags " -D${_def}")
endforeach()
if(BUILD_SHARED_LIBS)
  string(APPEND _cflags " -DCATALYST_DYN_LINK")
endif()
# Boost's headers, unless the compiler finds them anyway.
get_target_property(_boost_includes Boost::headers INTERFACE_INCLUDE_DIRECTORIES)
foreach(_inc ${_boost_includes})
  if(NOT _inc IN_LIST CMAKE_CXX_IMPLICIT_INCLUDE_DIRECTORIES)
    string(APPEND _cflags " -I${_inc}")
  endif()
endforeach()
string(STRIP "${_cflags}" CATALYST_PC_CFLAGS)

# -L<dir> -lboost_json -lboost_url, from the imported targets.
set(_boost_libs "")
set(_boost_dirs "")
foreach(_component json url)
  get_target_property(_location Boost::${_component} LOCATION)
  get_filename_component(_dir "${_location}" DIRECTORY)
  if(NOT _dir IN_LIST CMAKE_CXX_IMPLICIT_LINK_DIRECTORIES AND NOT _dir IN_LIST _boost_dirs)
    list(APPEND _boost_dirs "${_dir}")
    string(APPEND _boost_libs " -L${_dir}")
  endif()
  string(APPEND _boost_libs " -lboost_${_component}")
endforeach()
set(CATALYST_PC_BOOST_JSON "${_boost_libs}")  # the sandbox's own use: "[-L<dir>] -lboost_json -lboost_url"
string(APPEND _boost_libs " -pthread")
string(STRIP "${_boost_libs}" _boost_libs)

if(BUILD_SHARED_LIBS)
  set(CATALYST_PC_KIND shared)
  set(CATALYST_PC_REQUIRES "")
  set(CATALYST_PC_REQUIRES_PRIVATE "openssl >= 3")
  set(CATALYST_PC_LIBS "")
  set(CATALYST_PC_LIBS_PRIVATE "${_boost_libs}")
else()
  set(CATALYST_PC_KIND static)
  set(CATALYST_PC_REQUIRES "openssl >= 3")
  set(CATALYST_PC_REQUIRES_PRIVATE "")
  set(CATALYST_PC_LIBS "${_boost_libs}")
  set(CATALYST_PC_LIBS_PRIVATE "")
endif()

configure_file(${CMAKE_CURRENT_LIST_DIR}/catalyst.pc.in ${PROJECT_BINARY_DIR}/catalyst.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/catalyst.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

string(APPEND CATALYST_PC_BOOST_JSON " -pthread")
string(STRIP "${CATALYST_PC_BOOST_JSON}" CATALYST_PC_BOOST_JSON)

# catalyst-sandbox.pc: the static sandbox library over catalyst (tests of users' code).
configure_file(${CMAKE_CURRENT_LIST_DIR}/catalyst-sandbox.pc.in ${PROJECT_BINARY_DIR}/catalyst-sandbox.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/catalyst-sandbox.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
