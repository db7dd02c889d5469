# tl_cc_library / tl_cc_binary / tl_cc_test: one library per top-level folder, with the
# dependency rows of STYLE.md section 2 enforced at configure time.
#
#   tl_cc_library(NAME ledger SRCS a.cc b.cc DEPS tl::proto OpenSSL::Crypto)
#
# creates target tl_ledger with alias tl::ledger, include root at the repository top.

# Which tl:: libraries each library may depend on. Anything not named tl::* (third-party
# targets) is allowed; layering is about our own folders.
set(TL_ALLOWED_DEPS_proto "")
set(TL_ALLOWED_DEPS_ledger "tl::proto")
set(TL_ALLOWED_DEPS_ledger_testing "tl::ledger;tl::proto")
set(TL_ALLOWED_DEPS_ingest "tl::ledger;tl::proto")
set(TL_ALLOWED_DEPS_ingest_testing "tl::ingest;tl::ledger;tl::proto")
set(TL_ALLOWED_DEPS_projections "tl::ledger;tl::proto")
set(TL_ALLOWED_DEPS_projections_views "tl::projections;tl::ledger;tl::proto")
set(TL_ALLOWED_DEPS_api "tl::api_evidence;tl::api_auth;tl::api_query;tl::ingest;tl::projections;tl::projections_all;tl::ledger;tl::proto")
# api/ parts, each its own library; the server (tl::api) wires them together.
set(TL_ALLOWED_DEPS_api_evidence "tl::ingest;tl::ledger;tl::proto")
set(TL_ALLOWED_DEPS_api_auth "tl::ledger;tl::proto")
set(TL_ALLOWED_DEPS_api_query "tl::ingest;tl::projections;tl::projections_all;tl::ledger;tl::proto")

function(tl_cc_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS;PUBLIC_DEPS" ${ARGN})
  if(NOT DEFINED TL_ALLOWED_DEPS_${ARG_NAME})
    message(FATAL_ERROR "tl_cc_library(${ARG_NAME}): no dependency row for this library in cmake/TlCcLibrary.cmake")
  endif()
  foreach(dep IN LISTS ARG_DEPS ARG_PUBLIC_DEPS)
    if(dep MATCHES "^tl::")
      list(FIND TL_ALLOWED_DEPS_${ARG_NAME} "${dep}" found)
      if(found EQUAL -1)
        message(FATAL_ERROR "tl_cc_library(${ARG_NAME}) may not depend on ${dep}: allowed are [${TL_ALLOWED_DEPS_${ARG_NAME}}]")
      endif()
    endif()
  endforeach()
  add_library(tl_${ARG_NAME} STATIC ${ARG_SRCS})
  add_library(tl::${ARG_NAME} ALIAS tl_${ARG_NAME})
  target_include_directories(tl_${ARG_NAME} PUBLIC ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
  target_compile_options(tl_${ARG_NAME} PRIVATE ${TL_WARNING_FLAGS})
  target_link_libraries(tl_${ARG_NAME} PUBLIC ${ARG_DEPS} ${ARG_PUBLIC_DEPS})
endfunction()

function(tl_cc_binary)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_compile_options(${ARG_NAME} PRIVATE ${TL_WARNING_FLAGS})
  target_include_directories(${ARG_NAME} PRIVATE ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} ${TL_MALLOC_LIBS})
endfunction()

# tl_cc_fuzz(NAME event_decoder_fuzz SRCS event_decoder_fuzz.cc DEPS tl::ingest): a libFuzzer
# binary (LLVMFuzzerTestOneInput), in TL_FUZZ builds only (the fuzz preset); its seed corpus is
# tests/fuzz_corpus/<NAME>/, and tools/scripts/fuzz.sh runs it (STYLE.md section 8).
if(TL_FUZZ)
  function(tl_cc_fuzz)
    cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
    add_executable(${ARG_NAME} ${ARG_SRCS})
    target_compile_options(${ARG_NAME} PRIVATE ${TL_WARNING_FLAGS})
    target_include_directories(${ARG_NAME} PRIVATE ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
    target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS})
    target_link_options(${ARG_NAME} PRIVATE -fsanitize=fuzzer)
  endfunction()
endif()

# tl_cc_test(NAME merkle_test SRCS merkle_test.cc DEPS tl::ledger LABELS unit [ARGS ...])
# ARGS go to the test's command line, e.g. a --gtest_filter that leaves the large cases to a
# second ctest entry made with tl_cc_test_run.
function(tl_cc_test)
  cmake_parse_arguments(ARG "" "NAME;TIMEOUT" "SRCS;DEPS;LABELS;ARGS" ${ARGN})
  if(NOT TL_BUILD_TESTS)
    return()
  endif()
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_compile_options(${ARG_NAME} PRIVATE ${TL_WARNING_FLAGS})
  target_include_directories(${ARG_NAME} PRIVATE ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  add_test(NAME ${ARG_NAME} COMMAND ${ARG_NAME} ${ARG_ARGS})
  set_tests_properties(${ARG_NAME} PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT})
endfunction()

# Another ctest entry running a tl_cc_test binary with other arguments, e.g. its large cases
# labelled integration (run by the ci preset, not under the sanitizers):
# tl_cc_test_run(NAME gen_scale_test BINARY gen_test ARGS --gtest_filter=*Scale* LABELS integration)
function(tl_cc_test_run)
  cmake_parse_arguments(ARG "" "NAME;BINARY;TIMEOUT" "ARGS;LABELS" ${ARGN})
  if(NOT TL_BUILD_TESTS)
    return()
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  add_test(NAME ${ARG_NAME} COMMAND ${ARG_BINARY} ${ARG_ARGS})
  set_tests_properties(${ARG_NAME} PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT})
endfunction()

# tl_cc_benchmark(NAME ledger_bench SRCS ledger_bench.cc DEPS tl::ledger)
function(tl_cc_benchmark)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  if(NOT TL_BUILD_BENCHMARKS)
    return()
  endif()
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_compile_options(${ARG_NAME} PRIVATE ${TL_WARNING_FLAGS})
  target_include_directories(${ARG_NAME} PRIVATE ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} benchmark::benchmark ${TL_MALLOC_LIBS})
endfunction()
