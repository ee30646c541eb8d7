# Toolchain file for the linux-arm64 prebuild, cross-compiled on x86-64 Debian 12 with Debian's
# g++-aarch64-linux-gnu and the arm64 rdma-core dev packages installed through multiarch
# (dpkg --add-architecture arm64; the list is scripts/prebuilds/apt-packages.txt).
# Used by scripts/prebuilds/build.mjs; building on an arm64 machine needs no toolchain file.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
# Multiarch layout: find_library looks in /usr/lib/aarch64-linux-gnu, not the host's directory.
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

# pkg-config must describe the arm64 libraries, not the host's. PKG_CONFIG_LIBDIR replaces the
# default search path; PKG_CONFIG_PATH would be searched before it, so it goes.
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
unset(ENV{PKG_CONFIG_PATH})
