# Writes a C++ source holding the bytes of files, run at build time (see CMakeLists.txt here).
# Usage: cmake -D OUTPUT=out.cpp -D HEADER=/abs/decl.h -D NAMESPACE=ns -D FILES=a/index.html,b/app.js
#          -P embed_files.cmake
# Each file becomes `std::string_view NAME()` in NAMESPACE, declared by HEADER, NAME being the
# file's name with every character but letters and digits replaced by '_' (index.html: index_html).
cmake_minimum_required(VERSION 3.25)

string(REPLACE "," ";" files "${FILES}")
set(arrays "")
set(functions "")
foreach(file IN LISTS files)
  get_filename_component(file_name "${file}" NAME)
  string(MAKE_C_IDENTIFIER "${file_name}" name)
  file(READ "${file}" hex HEX)
  if(hex STREQUAL "")
    message(FATAL_ERROR "embed_files: ${file} is empty")
  endif()
  # 0x.. per byte, 24 bytes a line (CMake's regular expressions have no {n}).
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REPEAT "0x..," 24 line)
  string(REGEX REPLACE "(${line})" "\\1\n" bytes "${bytes}")
  string(APPEND arrays "// ${file_name}\nconst unsigned char ${name}_bytes[] = {\n${bytes}\n};\n\n")
  string(APPEND functions "std::string_view ${name}() {\n"
    "  return {reinterpret_cast<const char*>(${name}_bytes), sizeof ${name}_bytes};\n}\n\n")
endforeach()

file(WRITE "${OUTPUT}" "// Generated at build time by src/serve/embed_files.cmake: do not edit.\n"
  "#include \"${HEADER}\"\n\n"
  "namespace ${NAMESPACE} {\nnamespace {\n\n${arrays}}  // namespace\n\n${functions}}  // namespace ${NAMESPACE}\n")
