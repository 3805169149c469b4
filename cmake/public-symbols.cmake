# Writes the linker version script of libslidefrag: every function declared
# in the public headers is exported, nothing else is. The headers are the
# one list of the public API, so a function added to one is exported
# without another list to keep in step, and the helpers of src/ that are
# shared between files but not declared there stay private.
#
#   cmake -DOUTPUT=<file> -DVERSION_NODE=<name> -DHEADER_DIR=<dir> -P public-symbols.cmake
file(GLOB headers "${HEADER_DIR}/*.h")
set(symbols "")
foreach(header ${headers})
  file(READ "${header}" text)
  # Comments name functions too ("see sf_slide_read_scaled()"): drop them.
  string(REGEX REPLACE "/\\*([^*]|\\*+[^*/])*\\*+/" "" text "${text}")
  string(REGEX REPLACE "//[^\n]*" "" text "${text}")
  # A declaration is a name followed by its parameter list; a function
  # pointer type, "(*sf_row_sink)(", has a ')' after the name instead.
  string(REGEX MATCHALL "sf_[A-Za-z0-9_]+[ \t\r\n]*\\(" found "${text}")
  foreach(match ${found})
    string(REGEX REPLACE "[ \t\r\n]*\\($" "" name "${match}")
    list(APPEND symbols "${name}")
  endforeach()
endforeach()
list(REMOVE_DUPLICATES symbols)
list(SORT symbols)
set(script "/* Generated from the public headers by cmake/public-symbols.cmake. */\n")
string(APPEND script "${VERSION_NODE} {\n  global:\n")
foreach(name ${symbols})
  string(APPEND script "    ${name};\n")
endforeach()
string(APPEND script "  local:\n    *;\n};\n")
# Rewritten only when it changes, so the library relinks only then.
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" old)
  if(old STREQUAL script)
    return()
  endif()
endif()
file(WRITE "${OUTPUT}" "${script}")
