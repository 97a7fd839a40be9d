# Sources of enrollment and the agent's credentials, relative to agent/.
list(APPEND VALISE_AGENT_SOURCES
  src/enroll/credentials.cpp
  src/enroll/enroll.cpp
  src/remote/collector_api.cpp
  src/remote/reconnect.cpp
)
