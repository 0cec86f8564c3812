# Run by `cmake --install` (CMakeLists.txt: install(SCRIPT)), after the package's files are in
# place: writes joulebench/_installed.py, which tells the installed package where the installed
# libjoulebench is (python/joulebench/_lib.py looks there before the loader's path), so that
#   PYTHONPATH=$PREFIX/share/joulebench/python python3 -c 'import joulebench; joulebench.Monitor()'
# works for a prefix the dynamic loader does not search.  Paths are those of the final prefix
# (what --prefix or CMAKE_INSTALL_PREFIX says), without DESTDIR, which only stages the files.
# Set by install(CODE) just before: JB__PY_DIR, JB__LIB_DIR (each relative to the prefix, or
# absolute), JB__SONAME.
foreach(v JB__PY_DIR JB__LIB_DIR JB__SONAME)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "python/cmake-install.cmake: ${v} is not set")
  endif()
endforeach()
set(_jb_py "${JB__PY_DIR}")
if(NOT IS_ABSOLUTE "${_jb_py}")
  set(_jb_py "${CMAKE_INSTALL_PREFIX}/${_jb_py}")
endif()
set(_jb_lib "${JB__LIB_DIR}")
if(NOT IS_ABSOLUTE "${_jb_lib}")
  set(_jb_lib "${CMAKE_INSTALL_PREFIX}/${_jb_lib}")
endif()
set(_jb_file "$ENV{DESTDIR}${_jb_py}/joulebench/_installed.py")
message(STATUS "Installing: ${_jb_file}")
file(WRITE "${_jb_file}"
  "\"\"\"Written by cmake --install: where this installation's libjoulebench is.\"\"\"\n\n"
  "LIBRARY = \"${_jb_lib}/${JB__SONAME}\"\n")
list(APPEND CMAKE_INSTALL_MANIFEST_FILES "${_jb_file}")
