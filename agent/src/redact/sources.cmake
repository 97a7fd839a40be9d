# Redaction: the rules and the streaming engine, relative to agent/.
list(APPEND VALISE_AGENT_SOURCES
  src/redact/default_rules.cpp
  src/redact/redactor.cpp
  src/redact/trigger_scan.cpp
)
