# Finds every dependency through pkg-config and names the Debian package to install when one is missing.
find_package(PkgConfig)
if(NOT PKG_CONFIG_FOUND)
  message(FATAL_ERROR "pkg-config not found: install the Debian package 'pkg-config' (scripts/install-deps)")
endif()

# stsd_require(<pkg-config module> <Debian package>) defines the imported target PkgConfig::<module>.
function(stsd_require module debian_package)
  pkg_check_modules(${module} QUIET IMPORTED_TARGET GLOBAL ${module})
  if(NOT ${module}_FOUND)
    message(FATAL_ERROR "missing dependency '${module}': install the Debian package '${debian_package}' "
                        "(run scripts/install-deps)")
  endif()
endfunction()

stsd_require(lmdb liblmdb-dev)
stsd_require(jansson libjansson-dev)
stsd_require(libprotobuf-c libprotobuf-c-dev)
stsd_require(gnutls libgnutls28-dev)
stsd_require(libuv libuv1-dev)
stsd_require(raft libraft-dev)
# Link libraft statically: the Debian shared library is stripped of its internal symbols, the
# archive keeps them, so sanitizer and gdb backtraces inside raft name their functions.
find_library(RAFT_STATIC_LIB NAMES libraft.a HINTS ${raft_LIBDIR} REQUIRED)
add_library(stsd_raft INTERFACE)
target_include_directories(stsd_raft INTERFACE ${raft_INCLUDE_DIRS})
target_link_libraries(stsd_raft INTERFACE ${RAFT_STATIC_LIB} PkgConfig::libuv PkgConfig::liblz4)
stsd_require(liblz4 liblz4-dev)
stsd_require(libfyaml libfyaml-dev)
stsd_require(libmicrohttpd libmicrohttpd-dev)
stsd_require(libcurl libcurl4-openssl-dev)
if(STSD_TESTS)
  stsd_require(cmocka libcmocka-dev)
endif()

find_program(PROTOC_C protoc-c)
if(NOT PROTOC_C)
  message(FATAL_ERROR "protoc-c not found: install the Debian package 'protobuf-c-compiler' (scripts/install-deps)")
endif()
find_package(Threads REQUIRED)
