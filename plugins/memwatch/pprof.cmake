# pprof.cmake: memwatch's pprof writer (pprof.c) as the static library
# memwatch_pprof, included from plugins/memwatch/CMakeLists.txt. protoc-c
# compiles profile.proto into the build directory at build time; nothing
# generated is checked in. docs/DEPENDENCIES.md says why protobuf-c and zlib.
# Expects find_package(PkgConfig) done (the top-level CMakeLists.txt does it).
set(MEMWATCH_PPROF_DIR ${CMAKE_CURRENT_LIST_DIR})

find_program(SONDE_PROTOC_C protoc-c)
if(NOT SONDE_PROTOC_C)
  message(FATAL_ERROR "protoc-c not found: memwatch's pprof output is generated from profile.proto by it. "
                      "Install Debian's protobuf-c-compiler (scripts/bootstrap.sh does).")
endif()
pkg_check_modules(PROTOBUFC REQUIRED IMPORTED_TARGET libprotobuf-c)
pkg_check_modules(ZLIB REQUIRED IMPORTED_TARGET zlib)

set(MEMWATCH_PB_C ${CMAKE_CURRENT_BINARY_DIR}/profile.pb-c.c)
set(MEMWATCH_PB_H ${CMAKE_CURRENT_BINARY_DIR}/profile.pb-c.h)
add_custom_command(
  OUTPUT ${MEMWATCH_PB_C} ${MEMWATCH_PB_H}
  COMMAND ${SONDE_PROTOC_C} --proto_path=${MEMWATCH_PPROF_DIR} --c_out=${CMAKE_CURRENT_BINARY_DIR}
          ${MEMWATCH_PPROF_DIR}/profile.proto
  DEPENDS ${MEMWATCH_PPROF_DIR}/profile.proto
  COMMENT "protoc-c: plugins/memwatch/profile.proto"
  VERBATIM)

add_library(memwatch_pprof STATIC ${MEMWATCH_PPROF_DIR}/pprof.c ${MEMWATCH_PB_C})
# PIC: linked into the memwatch plugin, a shared module
set_target_properties(memwatch_pprof PROPERTIES POSITION_INDEPENDENT_CODE ON C_VISIBILITY_PRESET hidden)
target_include_directories(memwatch_pprof PUBLIC ${PROJECT_SOURCE_DIR}/plugin-api ${MEMWATCH_PPROF_DIR}
                                                 ${CMAKE_CURRENT_BINARY_DIR})
target_link_libraries(memwatch_pprof PUBLIC PkgConfig::PROTOBUFC PkgConfig::ZLIB)
