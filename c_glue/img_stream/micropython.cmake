# MicroPython user C module for CMake-based ports (rp2, esp32, ...): the C
# shim plus the Rust staticlib. Pass -DIMG_STREAM_LIB=/path/libimg_stream.a
# for a cross-built archive.
add_library(usermod_img_stream INTERFACE)

target_sources(usermod_img_stream INTERFACE
    ${CMAKE_CURRENT_LIST_DIR}/mod_img_stream.c
    ${CMAKE_CURRENT_LIST_DIR}/status.c
    ${CMAKE_CURRENT_LIST_DIR}/tcp.c
    ${CMAKE_CURRENT_LIST_DIR}/tcp_sender.c
    ${CMAKE_CURRENT_LIST_DIR}/img_source.c
    ${CMAKE_CURRENT_LIST_DIR}/stream_writer.c
    ${CMAKE_CURRENT_LIST_DIR}/host_hooks.c
    ${CMAKE_CURRENT_LIST_DIR}/mjpeg.c
    ${CMAKE_CURRENT_LIST_DIR}/udp.c
    ${CMAKE_CURRENT_LIST_DIR}/mqtt.c
    ${CMAKE_CURRENT_LIST_DIR}/rate.c
    ${CMAKE_CURRENT_LIST_DIR}/encoded.c
)

target_include_directories(usermod_img_stream INTERFACE ${CMAKE_CURRENT_LIST_DIR})
target_compile_options(usermod_img_stream INTERFACE -Wall -Wextra -Werror -Wno-unused-parameter)

if(NOT IMG_STREAM_LIB)
    set(IMG_STREAM_LIB ${CMAKE_CURRENT_LIST_DIR}/../../target/release/libimg_stream.a)
endif()
# libm first, so the Rust archive's weak math symbols never replace it.
target_link_libraries(usermod_img_stream INTERFACE m ${IMG_STREAM_LIB})

target_link_libraries(usermod INTERFACE usermod_img_stream)
