#include "remote/collector_api.hpp"

#include <sys/utsname.h>

#include <boost/json.hpp>
#include <fstream>

#include "remote/reconnect.hpp"
#include "valise/common/manifest.hpp"
#include "valise/common/version.hpp"

namespace valise::agent {
namespace {

namespace json = boost::json;

std::string string_field(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::optional<std::string> optional_field(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  if (v && v->is_string()) return std::string(v->get_string());
  return std::nullopt;
}

// Job ids and profile names become file names and URL path segments here.
bool safe_name(std::string_view s) {
  return !s.empty() && s.size() <= 64 &&
         s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") ==
             std::string_view::npos &&
         s.front() != '.';
}

std::error_code bad_answer() {
  return common::make_error_code(common::http_errc::protocol_error);
}

std::string os_pretty_name() {
  std::ifstream in("/etc/os-release");
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with("PRETTY_NAME=")) continue;
    std::string value = line.substr(12);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    return value;
  }
  return "Linux";
}

json::object host_json(const host_report& host) {
  json::array profiles;
  for (const auto& p : host.profiles) profiles.emplace_back(p);
  return {{"hostname", host.hostname},       {"os", host.os},
          {"kernel", host.kernel},           {"version", host.version},
          {"profiles", std::move(profiles)}, {"max_upload_bytes", host.max_upload_bytes}};
}

}  // namespace

host_report describe_host(std::vector<std::string> remote_profiles,
                          std::uint64_t max_upload_bytes) {
  host_report host;
  host.hostname = common::local_host_name();
  struct utsname u {};
  if (::uname(&u) == 0) host.kernel = std::string(u.sysname) + " " + u.release + " " + u.machine;
  host.os = os_pretty_name();
  host.version = common::version;
  host.profiles = std::move(remote_profiles);
  host.max_upload_bytes = max_upload_bytes;
  return host;
}

result<json::value> collector_api::call(const common::http_request& request, unsigned expected) {
  last_error_.clear();
  retry_after_.reset();
  auto response = http_.send(request);
  // Only a server shedding load says when to come back: a Retry-After on
  // anything else (a proxy's error page, a 301) is not about the poller.
  if (response && sheds_load(response->status))
    if (auto wait = response->header("Retry-After")) retry_after_ = parse_retry_after(*wait);
  if (!response) {
    // What the connection met (a proxy's 407 rather than its 502, say).
    last_error_ = http_.last_error_detail();
    return response.error();
  }
  boost::system::error_code ec;
  auto body = response->body.empty() ? json::value() : json::parse(response->body, ec);
  if (response->status != expected) {
    // The server's sentence, for the log; never a credential (it sends none back).
    if (const auto* o = ec ? nullptr : body.if_object()) last_error_ = string_field(*o, "error");
    return common::make_status_error(response->status);
  }
  if (ec) return bad_answer();
  return body;
}

result<std::string> collector_api::fetch_ca() {
  auto response = http_.send({.method = "GET", .target = "/api/v1/ca"});
  if (!response) return response.error();
  if (response->status != 200) return common::make_status_error(response->status);
  return std::move(response->body);
}

result<enrollment> collector_api::enroll(const std::string& token, const std::string& csr,
                                         const host_report& host) {
  auto body = host_json(host);
  body["csr"] = csr;
  auto answer = call({.method = "POST",
                      .target = "/api/v1/enroll",
                      .headers = {{"Authorization", "Bearer " + token}},
                      .body = json::serialize(body)},
                     201);
  if (!answer) return answer.error();
  const auto* o = answer->if_object();
  if (!o) return bad_answer();
  enrollment e{string_field(*o, "agent_id"), string_field(*o, "certificate"),
               string_field(*o, "ca")};
  if (e.agent_id.empty() || e.certificate.empty()) return bad_answer();
  return e;
}

result<void> collector_api::heartbeat(const host_report& host) {
  auto answer = call({.method = "POST",
                      .target = "/api/v1/agent/heartbeat",
                      .body = json::serialize(host_json(host))},
                     200);
  if (!answer) return answer.error();
  return {};
}

result<std::string> collector_api::renew(const std::string& csr) {
  auto answer = call({.method = "POST",
                      .target = "/api/v1/agent/certificate",
                      .body = json::serialize(json::object{{"csr", csr}})},
                     200);
  if (!answer) return answer.error();
  const auto* o = answer->if_object();
  auto certificate = o ? string_field(*o, "certificate") : std::string();
  if (certificate.empty()) return bad_answer();
  return certificate;
}

result<std::vector<job>> collector_api::poll_jobs(std::chrono::seconds wait) {
  auto answer = call(
      {.method = "GET", .target = "/api/v1/agent/jobs?wait=" + std::to_string(wait.count())}, 200);
  if (!answer) return answer.error();
  const auto* o = answer->if_object();
  const auto* list = o ? o->if_contains("jobs") : nullptr;
  if (!list || !list->is_array()) return bad_answer();
  std::vector<job> jobs;
  for (const auto& item : list->get_array()) {
    const auto* j = item.if_object();
    if (!j) return bad_answer();
    job next{string_field(*j, "id"),      string_field(*j, "ticket"),  string_field(*j, "profile"),
             optional_field(*j, "since"), optional_field(*j, "until"), {}};
    if (const auto* r = j->if_contains("recipients"); r && r->is_array())
      for (const auto& key : r->get_array())
        if (key.is_string()) next.recipients.emplace_back(key.get_string());
    if (!safe_name(next.id) || !safe_name(next.profile)) return bad_answer();
    jobs.push_back(std::move(next));
  }
  return jobs;
}

result<void> collector_api::report(const std::string& job_id, const status_report& status) {
  json::object body{{"state", status.state}};
  if (!status.error.empty()) body["error"] = status.error;
  if (!status.bundle_id.empty()) body["bundle_id"] = status.bundle_id;
  auto answer = call({.method = "POST",
                      .target = "/api/v1/agent/requests/" + job_id + "/status",
                      .body = json::serialize(body)},
                     200);
  if (!answer) return answer.error();
  return {};
}

}  // namespace valise::agent
