# Sources of the agent's configuration, relative to agent/.
list(APPEND VALISE_AGENT_SOURCES
  src/config/agent_config.cpp
)
