// System facts as facts.json: OS, kernel, host name, uptime, CPU, memory,
// disks (real file systems from /proc/self/mounts, with statvfs usage),
// network interfaces (getifaddrs) and the state of the profile's services
// (systemd over D-Bus). A piece that cannot be read becomes {"error": ...} in
// its place; nothing here fails the bundle. Redacted like every other item.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <mntent.h>
#include <net/if.h>
#include <sys/statvfs.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <fstream>
#include <map>
#include <set>

#include "collect/collectors.hpp"

namespace valise::agent::detail {
namespace {

namespace json = boost::json;

json::object error_object(std::string text) {
  return json::object{{"error", std::move(text)}};
}

// KEY=value and KEY="value" lines (os-release).
json::value os_release() {
  std::ifstream in("/etc/os-release");
  if (!in) in.open("/usr/lib/os-release");
  if (!in) return error_object("no /etc/os-release");
  json::object out;
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq == line.npos || line[0] == '#') continue;
    std::string value = line.substr(eq + 1);
    if (value.size() >= 2 && (value[0] == '"' || value[0] == '\'') && value.back() == value[0])
      value = value.substr(1, value.size() - 2);
    out[line.substr(0, eq)] = value;
  }
  return out;
}

json::value kernel() {
  utsname u{};
  if (::uname(&u) != 0) return error_object("uname failed");
  return json::object{{"sysname", u.sysname},
                      {"release", u.release},
                      {"version", u.version},
                      {"machine", u.machine}};
}

json::value cpu() {
  std::ifstream in("/proc/cpuinfo");
  std::string line, model;
  while (in && std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0 && model.empty()) {
      const auto colon = line.find(':');
      if (colon != line.npos) model = line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  const long online = ::sysconf(_SC_NPROCESSORS_ONLN);
  return json::object{{"model", model}, {"count", online > 0 ? online : 0}};
}

json::value memory() {
  std::ifstream in("/proc/meminfo");
  if (!in) return error_object("no /proc/meminfo");
  static const std::set<std::string> wanted{"MemTotal", "MemFree",   "MemAvailable", "Buffers",
                                            "Cached",   "SwapTotal", "SwapFree"};
  json::object out;
  std::string key;
  std::uint64_t kib = 0;
  std::string unit;
  while (in >> key >> kib) {
    std::getline(in, unit);
    if (!key.empty() && key.back() == ':') key.pop_back();
    if (wanted.count(key)) out[key + "_bytes"] = kib * 1024;
  }
  return out;
}

json::value disks() {
  static const std::set<std::string> pseudo{
      "proc",     "sysfs",     "devtmpfs", "devpts",      "tmpfs",      "securityfs", "cgroup",
      "cgroup2",  "pstore",    "bpf",      "debugfs",     "tracefs",    "configfs",   "fusectl",
      "mqueue",   "hugetlbfs", "autofs",   "binfmt_misc", "rpc_pipefs", "nsfs",       "ramfs",
      "efivarfs", "selinuxfs", "overlay",  "squashfs",    "fuse.lxcfs", "fuse.portal"};
  FILE* mounts = ::setmntent("/proc/self/mounts", "r");
  if (!mounts) return error_object("no /proc/self/mounts");
  json::array out;
  mntent entry{};
  char buffer[4096];
  while (::getmntent_r(mounts, &entry, buffer, sizeof buffer)) {
    if (pseudo.count(entry.mnt_type)) continue;
    json::object disk{
        {"device", entry.mnt_fsname}, {"mount", entry.mnt_dir}, {"type", entry.mnt_type}};
    struct statvfs st {};
    if (::statvfs(entry.mnt_dir, &st) == 0) {
      const auto block = static_cast<std::uint64_t>(st.f_frsize);
      disk["size_bytes"] = st.f_blocks * block;
      disk["free_bytes"] = st.f_bfree * block;
      disk["available_bytes"] = st.f_bavail * block;
      disk["inodes"] = st.f_files;
      disk["inodes_free"] = st.f_ffree;
    } else {
      disk["error"] = std::generic_category().message(errno);
    }
    out.push_back(std::move(disk));
  }
  ::endmntent(mounts);
  return out;
}

json::value interfaces() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return error_object("getifaddrs failed");
  std::map<std::string, json::object> by_name;
  for (const ifaddrs* a = list; a; a = a->ifa_next) {
    auto& iface = by_name[a->ifa_name];
    if (iface.empty()) {
      iface["name"] = a->ifa_name;
      iface["up"] = (a->ifa_flags & IFF_UP) != 0;
      iface["running"] = (a->ifa_flags & IFF_RUNNING) != 0;
      iface["addresses"] = json::array();
    }
    if (!a->ifa_addr) continue;
    char text[INET6_ADDRSTRLEN] = {};
    const int family = a->ifa_addr->sa_family;
    const void* raw = nullptr;
    if (family == AF_INET) raw = &reinterpret_cast<const sockaddr_in*>(a->ifa_addr)->sin_addr;
    if (family == AF_INET6) raw = &reinterpret_cast<const sockaddr_in6*>(a->ifa_addr)->sin6_addr;
    if (raw && ::inet_ntop(family, raw, text, sizeof text))
      iface["addresses"].as_array().push_back(json::value(text));
  }
  ::freeifaddrs(list);
  json::array out;
  for (auto& [name, iface] : by_name) out.push_back(std::move(iface));
  return out;
}

// ActiveState/SubState/LoadState of each service, from systemd's own bus object.
json::value services(const std::vector<std::string>& names) {
  json::object out;
  if (names.empty()) return out;
  sd_bus* bus = nullptr;
  const int rc = sd_bus_open_system(&bus);
  if (rc >= 0) sd_bus_set_method_call_timeout(bus, 5'000'000);  // a stuck systemd costs 5 s
  for (const auto& name : names) {
    if (rc < 0) {
      out[name] = error_object("systemd not reachable: " + std::generic_category().message(-rc));
      continue;
    }
    char* path = nullptr;
    if (sd_bus_path_encode("/org/freedesktop/systemd1/unit", name.c_str(), &path) < 0) {
      out[name] = error_object("invalid unit name");
      continue;
    }
    json::object state;
    for (const char* property : {"LoadState", "ActiveState", "SubState"}) {
      sd_bus_error error = SD_BUS_ERROR_NULL;
      char* value = nullptr;
      const int r =
          sd_bus_get_property_string(bus, "org.freedesktop.systemd1", path,
                                     "org.freedesktop.systemd1.Unit", property, &error, &value);
      if (r < 0) {
        state = error_object(std::string("systemd: ") +
                             (error.message ? error.message : std::generic_category().message(-r)));
        sd_bus_error_free(&error);
        break;
      }
      state[property] = value;
      std::free(value);
    }
    std::free(path);
    out[name] = std::move(state);
  }
  if (bus) sd_bus_flush_close_unref(bus);
  return out;
}

}  // namespace

result<void> collect_facts(collection_run& run) {
  if (!run.p.facts) return {};
  const std::string path = "facts.json";
  if (run.cap_reached()) {
    run.skip_for_cap(path, "system facts");
    return {};
  }
  json::object facts;
  facts["os"] = os_release();
  facts["kernel"] = kernel();
  char host[256] = {};
  facts["hostname"] = ::gethostname(host, sizeof host - 1) == 0 ? host : "";
  struct sysinfo si {};
  if (::sysinfo(&si) == 0) facts["uptime_seconds"] = si.uptime;
  facts["cpu"] = cpu();
  facts["memory"] = memory();
  facts["disks"] = disks();
  facts["network_interfaces"] = interfaces();
  facts["services"] = services(run.p.services);
  const std::string text = json::serialize(facts) + "\n";
  auto sink = item_sink::open(run, path, "system facts", std::time(nullptr));
  if (!sink) return sink.error();
  if (!*sink) return {};
  if (auto r = (*sink)->write({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
      !r)
    return r;
  return (*sink)->close({}, false);
}

}  // namespace valise::agent::detail
