# Sources of the service (job loop, spool, upload, control socket) and of the
# passphrase delivery, relative to agent/.
list(APPEND VALISE_AGENT_SOURCES
  src/delivery/passphrase_delivery.cpp
  src/service/bundle_maker.cpp
  src/service/control_socket.cpp
  src/service/job_report.cpp
  src/service/job_runner.cpp
  src/service/job_store.cpp
  src/service/service.cpp
  src/service/time_window.cpp
  src/service/working_set.cpp
)
list(APPEND VALISE_AGENT_SOURCES
  src/commands/app.cpp
  src/commands/cmd_collect.cpp
  src/commands/cmd_jobs.cpp
  src/commands/cmd_service.cpp
)
