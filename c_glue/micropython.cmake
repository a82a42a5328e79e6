# Entry point for CMake-based ports: USER_C_MODULES=<repo>/c_glue/micropython.cmake
include(${CMAKE_CURRENT_LIST_DIR}/img_stream/micropython.cmake)
