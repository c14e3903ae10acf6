# Helpers that give every project target the same warnings, sanitizers and
# include paths. Generated code gets the sanitizers but not -Werror.

# Warnings are errors in the project's own scripts and CI
# (-DSWITCHBOARD_WERROR=ON); a packager's or newcomer's plain build of any
# type only warns, so a new compiler's new warning never stops it.
option(SWITCHBOARD_WERROR "Treat compiler warnings in project code as errors" OFF)
set(SWITCHBOARD_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wno-unused-parameter -Wno-missing-field-initializers)
if(SWITCHBOARD_WERROR)
  list(APPEND SWITCHBOARD_WARNINGS -Werror)
endif()
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  list(APPEND SWITCHBOARD_WARNINGS -Wthread-safety)
endif()

if(SWITCHBOARD_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "SWITCHBOARD_FUZZ needs clang (CC=clang CXX=clang++)")
  endif()
  # Coverage for libFuzzer in every project target; fuzz/ links the driver.
  set(SWITCHBOARD_SANITIZER_FLAGS -fsanitize=fuzzer-no-link,address,undefined
      -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
elseif(SWITCHBOARD_SANITIZER STREQUAL "address")
  set(SWITCHBOARD_SANITIZER_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=undefined
      -fno-omit-frame-pointer)
elseif(SWITCHBOARD_SANITIZER STREQUAL "thread")
  set(SWITCHBOARD_SANITIZER_FLAGS -fsanitize=thread -fno-omit-frame-pointer)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # Abseil's flags use atomic_thread_fence, which GCC's TSan cannot see.
    list(APPEND SWITCHBOARD_SANITIZER_FLAGS -Wno-tsan)
  endif()
elseif(NOT SWITCHBOARD_SANITIZER STREQUAL "")
  message(FATAL_ERROR "SWITCHBOARD_SANITIZER must be '', 'address' or 'thread'")
endif()
if(SWITCHBOARD_SANITIZER_FLAGS AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC's -Wmaybe-uninitialized misfires on instrumented code (e.g. inside
  # absl::InlinedVector); the uninstrumented build keeps the warning.
  list(APPEND SWITCHBOARD_SANITIZER_FLAGS -Wno-maybe-uninitialized)
endif()

function(switchboard_sanitize target)
  if(SWITCHBOARD_SANITIZER_FLAGS)
    target_compile_options(${target} PRIVATE ${SWITCHBOARD_SANITIZER_FLAGS})
    target_link_options(${target} PRIVATE ${SWITCHBOARD_SANITIZER_FLAGS})
  endif()
endfunction()

function(switchboard_strict target)
  target_compile_options(${target} PRIVATE ${SWITCHBOARD_WARNINGS})
  switchboard_sanitize(${target})
endfunction()

# switchboard_library(NAME SRCS ... DEPS ...): a static library of project code.
function(switchboard_library name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SRCS})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
  switchboard_strict(${name})
endfunction()

# switchboard_binary(NAME SRCS ... DEPS ...): an executable in build/bin.
function(switchboard_binary name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SRCS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  switchboard_strict(${name})
endfunction()

# switchboard_test(NAME SRCS ... DEPS ... [LABELS label] [TIMEOUT s]): a GoogleTest
# binary whose tests are registered one by one with CTest. One label: unit
# (the default), integration (starts real binaries) or concurrency (unit tests
# of concurrent code, also run under TSan).
function(switchboard_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT;LABELS" "SRCS;DEPS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  add_executable(${name} ${ARG_SRCS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest_main)
  switchboard_strict(${name})
  if(ARG_LABELS STREQUAL "concurrency")
    add_dependencies(concurrency_tests ${name})
  endif()
  gtest_discover_tests(${name}
    DISCOVERY_TIMEOUT 60
    PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT}
               ENVIRONMENT "SWITCHBOARD_BIN_DIR=${PROJECT_BINARY_DIR}/bin")
endfunction()

# switchboard_proto_library(NAME PROTOS ... [IMPORT_DIRS ...] [DEPS ...] [GRPC]):
# one generated C++ library per proto package. PROTOS are paths relative to
# the first import dir.
function(switchboard_proto_library name)
  cmake_parse_arguments(ARG "GRPC" "" "PROTOS;IMPORT_DIRS;DEPS" ${ARGN})
  set(out_dir ${PROJECT_BINARY_DIR}/gen)
  list(GET ARG_IMPORT_DIRS 0 root)
  set(include_flags)
  foreach(dir ${ARG_IMPORT_DIRS} ${SWITCHBOARD_PROTO_IMPORT_DIRS})
    list(APPEND include_flags -I${dir})
  endforeach()
  set(srcs)
  set(inputs)
  foreach(proto ${ARG_PROTOS})
    string(REGEX REPLACE "\\.proto$" "" base ${proto})
    set(outputs ${out_dir}/${base}.pb.cc ${out_dir}/${base}.pb.h)
    set(grpc_args)
    if(ARG_GRPC)
      list(APPEND outputs ${out_dir}/${base}.grpc.pb.cc ${out_dir}/${base}.grpc.pb.h)
      set(grpc_args --grpc_out=${out_dir}
          --plugin=protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>)
    endif()
    add_custom_command(
      OUTPUT ${outputs}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${out_dir}
      COMMAND protobuf::protoc ${include_flags} --cpp_out=${out_dir} ${grpc_args}
              ${root}/${proto}
      DEPENDS ${root}/${proto} protobuf::protoc
      COMMENT "protoc ${proto}"
      VERBATIM)
    list(APPEND srcs ${outputs})
  endforeach()
  add_library(${name} STATIC ${srcs})
  target_include_directories(${name} SYSTEM PUBLIC ${out_dir})
  target_link_libraries(${name} PUBLIC protobuf::libprotobuf ${ARG_DEPS})
  if(ARG_GRPC)
    target_link_libraries(${name} PUBLIC gRPC::grpc++)
  endif()
  switchboard_sanitize(${name})
endfunction()
