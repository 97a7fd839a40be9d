# Collection: the collectors and the entry point, relative to agent/.
list(APPEND VALISE_AGENT_SOURCES
  src/collect/collect.cpp
  src/collect/commands.cpp
  src/collect/decoder.cpp
  src/collect/decoder_window.cpp
  src/collect/facts.cpp
  src/collect/files.cpp
  src/collect/gzip_reader.cpp
  src/collect/item_sink.cpp
  src/collect/journal.cpp
  src/collect/read_ahead.cpp
)
