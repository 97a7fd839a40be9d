// Kept at this path for tests/unit/server/tus_service_test.cpp, which step 1
// of issue 17 leaves unchanged: the server's tus service is
// api/upload_service.hpp, the protocol tus/tus_protocol.hpp. The one include
// of tus/ above it (scripts/check-includes names this file).
#pragma once

#include "api/upload_service.hpp"
