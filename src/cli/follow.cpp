#include "cli/follow.h"

#include <fmt/format.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "core/clock.h"

namespace glidepath::cli {

namespace {

std::atomic<bool> g_interrupted{false};

extern "C" void on_interrupt(int) {
  g_interrupted.store(true);
}

// Ctrl-C ends the following cleanly (the cursor shown again, a closing line) instead of
// killing the process mid-redraw. The previous handler comes back at the end.
class InterruptGuard {
 public:
  InterruptGuard() {
    g_interrupted.store(false);
    struct sigaction action {};
    action.sa_handler = on_interrupt;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &previous_);
  }
  ~InterruptGuard() { sigaction(SIGINT, &previous_, nullptr); }
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

 private:
  struct sigaction previous_ {};
};

// Sleeps in small slices so Ctrl-C is noticed at once.
void pause_for(std::chrono::milliseconds interval) {
  const auto until = std::chrono::steady_clock::now() + interval;
  while (!g_interrupted.load() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        std::chrono::milliseconds(50), until - std::chrono::steady_clock::now()));
  }
}

// A block of lines redrawn in place (ECMA-48: CPL moves up, ED clears below).
class LiveScreen {
 public:
  explicit LiveScreen(bool live) : live_(live) {
    if (live_) std::fputs("\x1b[?25l", stdout);  // hide the cursor while redrawing
  }
  ~LiveScreen() {
    if (live_) std::fputs("\x1b[?25h", stdout);
    std::fflush(stdout);
  }
  LiveScreen(const LiveScreen&) = delete;
  LiveScreen& operator=(const LiveScreen&) = delete;

  void draw(const std::vector<std::string>& lines) {
    std::string out;
    if (drawn_ > 0) out += fmt::format("\x1b[{}F\x1b[J", drawn_);
    for (const std::string& line : lines) {
      out += line;
      out += '\n';
    }
    std::fputs(out.c_str(), stdout);
    std::fflush(stdout);
    drawn_ = lines.size();
  }

 private:
  bool live_;
  size_t drawn_ = 0;
};

std::string text_of(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return "";
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

bool is_terminal_state(const std::string& state) {
  return state == "succeeded" || state == "rolled_back" || state == "failed";
}

std::vector<nlohmann::json> new_events(const nlohmann::json& events, size_t shown,
                                       const nlohmann::json& last) {
  std::vector<nlohmann::json> out;
  if (!events.is_array()) return out;
  size_t from = 0;
  if (shown > 0) {
    if (shown <= events.size() && events[shown - 1] == last) {
      from = shown;
    } else {
      // Trimmed (or rewritten): continue after the last shown event if it is still there.
      from = 0;
      for (size_t i = events.size(); i > 0; --i) {
        if (events[i - 1] == last) {
          from = i;
          break;
        }
      }
    }
  }
  for (size_t i = from; i < events.size(); ++i)
    out.push_back(events[i]);
  return out;
}

FollowResult follow_deployment(const AdminClient& client, const std::string& id,
                               const FollowOptions& options) {
  InterruptGuard guard;
  LiveScreen screen(options.live);
  core::SystemClock clock;
  FollowResult result;
  std::string last_state;
  std::string last_json;
  size_t shown_events = 0;
  nlohmann::json last_event;
  auto unreachable_since = std::chrono::steady_clock::time_point::min();

  while (true) {
    auto reply = client.get("/v1/deployments/" + id);
    if (!reply) {
      // A restarting server: keep trying for a while, the deployment survives it.
      const auto now = std::chrono::steady_clock::now();
      if (unreachable_since == std::chrono::steady_clock::time_point::min()) {
        unreachable_since = now;
      }
      if (now - unreachable_since > options.unreachable_grace) {
        print_unreachable(client, reply.error());
        result.end = FollowEnd::failed;
        return result;
      }
    } else if (!reply->ok()) {
      print_refused(*reply);
      result.end = FollowEnd::failed;
      return result;
    } else {
      unreachable_since = std::chrono::steady_clock::time_point::min();
      const nlohmann::json& d = reply->body;
      result.deployment = d;
      const std::string state = text_of(d, "state");
      if (options.quiet) {
        // Nothing until the end.
      } else if (options.json) {
        const std::string compact = d.dump();
        if (compact != last_json) {
          fmt::print("{}\n", compact);
          std::fflush(stdout);
          last_json = compact;
        }
      } else if (options.live) {
        screen.draw(render_deployment(d, clock.now(), options.view));
      } else {
        // A log: each new event once (every transition has its "state" event), and a
        // state change that came without any event.
        static const nlohmann::json kNoEvents = nlohmann::json::array();
        const nlohmann::json& events =
            d.is_object() && d.contains("events") ? d["events"] : kNoEvents;
        const auto fresh = new_events(events, shown_events, last_event);
        for (const nlohmann::json& e : fresh)
          fmt::print("{}\n", format_event_line(e));
        if (!fresh.empty()) {
          shown_events = events.size();
          last_event = events.back();
        } else if (state != last_state) {
          fmt::print("{}  {} {}\n", core::format_rfc3339(clock.now()), "state   ", state);
        }
        std::fflush(stdout);
      }
      last_state = state;
      if (is_terminal_state(state)) {
        result.end = FollowEnd::finished;
        return result;
      }
    }
    pause_for(options.interval);
    if (g_interrupted.load()) {
      result.end = FollowEnd::interrupted;
      return result;
    }
  }
}

int watch(const std::function<core::Result<std::vector<std::string>>()>& render,
          const FollowOptions& options) {
  InterruptGuard guard;
  LiveScreen screen(options.live);
  std::vector<std::string> last;
  while (true) {
    auto lines = render();
    if (!lines) {
      fmt::print(stderr, "error: {}\n", lines.error().message);
      return 1;
    }
    if (options.live) {
      screen.draw(*lines);
    } else if (*lines != last) {
      // Not a terminal: print each changed picture once, separated by a blank line.
      if (!last.empty()) fmt::print("\n");
      for (const std::string& line : *lines)
        fmt::print("{}\n", line);
      std::fflush(stdout);
    }
    last = std::move(*lines);
    pause_for(options.interval);
    if (g_interrupted.load()) return 0;
  }
}

}  // namespace glidepath::cli
