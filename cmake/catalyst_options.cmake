# Compile settings shared by every catalyst target.

# Asio and Beast are compiled once, in src/asio/*.cpp, not in every unit that includes them.
set(CATALYST_PUBLIC_DEFINITIONS
  BOOST_ASIO_SEPARATE_COMPILATION
  BOOST_BEAST_SEPARATE_COMPILATION
  BOOST_ASIO_NO_DEPRECATED)

set(CATALYST_WARNINGS -Wall -Wextra -Wpedantic)

if(CATALYST_SANITIZE)
  add_compile_options(-fsanitize=${CATALYST_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=${CATALYST_SANITIZE})
endif()

function(catalyst_target_defaults target)
  target_compile_options(${target} PRIVATE ${CATALYST_WARNINGS})
endfunction()
