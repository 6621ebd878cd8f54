// gnuplot runner: the script goes to a temporary file, gnuplot is started with posix_spawn and its
// exit status checked, and the rendered images are renamed onto their final names only on success.
#include "gnuplot.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

#include "cltv/error.h"
#include "cltv/io/atomic_file.h"

extern char** environ;

namespace cltv::eval::detail {
namespace {

constexpr const char* setup_hint = "install gnuplot with scripts/setup (package gnuplot-nox)";

// A file created with mkstemp from PATTERN and removed on destruction unless released.
class TempPath {
 public:
  explicit TempPath(std::string pattern) : path_(std::move(pattern)) {
    const int fd = mkstemp(path_.data());
    if (fd < 0) {
      throw_io(fmt::format("cannot create a temporary file '{}': {}", path_, std::strerror(errno)),
               "check that the directory exists and is writable");
    }
    ::close(fd);
  }
  ~TempPath() {
    if (!path_.empty()) std::remove(path_.c_str());
  }
  TempPath(const TempPath&) = delete;
  TempPath& operator=(const TempPath&) = delete;

  const std::string& path() const { return path_; }
  // Moves the file onto TARGET; afterwards nothing is removed.
  void rename_to(const std::string& target) {
    ::chmod(path_.c_str(), 0644);
    if (std::rename(path_.c_str(), target.c_str()) != 0) {
      throw_io(fmt::format("cannot move '{}' onto '{}': {}", path_, target, std::strerror(errno)));
    }
    path_.clear();
  }

 private:
  std::string path_;
};

// A temporary name beside TARGET, so the final rename stays within one file system.
std::string pattern_beside(const std::string& target) {
  const std::filesystem::path path(target);
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
  std::string name = ".";
  name += path.filename().string();
  name += ".tmp-XXXXXX";
  return (dir / name).string();
}

// The last lines of gnuplot's error output, for the error message.
std::string tail(const std::string& text, size_t max_chars) {
  std::string trimmed = text;
  while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == ' ')) trimmed.pop_back();
  return trimmed.size() <= max_chars ? trimmed : "..." + trimmed.substr(trimmed.size() - max_chars);
}

int run_gnuplot(const std::string& gnuplot, const std::string& script_path, const std::string& stderr_path) {
  std::vector<std::string> argv_strings{gnuplot, script_path};
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, stderr_path.c_str(), O_WRONLY | O_TRUNC, 0);
  pid_t pid = 0;
  const int spawn_error = posix_spawn(&pid, gnuplot.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawn_error != 0) {
    throw_io(fmt::format("cannot start '{}': {}", gnuplot, std::strerror(spawn_error)), setup_hint);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw_io(fmt::format("cannot wait for '{}': {}", gnuplot, std::strerror(errno)));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

std::string find_gnuplot() {
  const char* path_variable = std::getenv("PATH");
  const std::string search = path_variable != nullptr ? path_variable : "";
  size_t start = 0;
  while (start <= search.size()) {
    const size_t colon = std::min(search.find(':', start), search.size());
    const std::string dir = colon > start ? search.substr(start, colon - start) : ".";
    const std::string candidate = (std::filesystem::path(dir) / "gnuplot").string();
    if (::access(candidate.c_str(), X_OK) == 0 && !std::filesystem::is_directory(candidate)) return candidate;
    start = colon + 1;
  }
  throw_io("cannot draw charts: gnuplot was not found on PATH", setup_hint);
}

std::string gnuplot_quote(const std::string& text) {
  if (text.find_first_of("\r\n") != std::string::npos) {
    throw_config(fmt::format("cannot use '{}' in a chart: it contains a line break", text),
                 "choose an output path and names without line breaks");
  }
  std::string quoted = "'";
  for (char c : text) {
    quoted += c;
    if (c == '\'') quoted += '\'';
  }
  return quoted + "'";
}

PlotFiles render_chart(const std::string& gnuplot, const std::string& plot_commands, const std::string& out_prefix) {
  const std::string svg = out_prefix + ".svg", png = out_prefix + ".png";
  TempPath svg_temp(pattern_beside(svg));
  TempPath png_temp(pattern_beside(png));
  const std::string temp_dir = std::filesystem::temp_directory_path().string();
  TempPath script(temp_dir + "/cltv-gnuplot-XXXXXX");
  TempPath errors(temp_dir + "/cltv-gnuplot-err-XXXXXX");

  std::string text;
  text += "set terminal svg size 960,640 dynamic noenhanced font 'sans,14' background '#ffffff'\n";
  text += "set output " + gnuplot_quote(svg_temp.path()) + "\n";
  text += plot_commands;
  text += "\nset output\n";
  text += "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n";
  text += "  set terminal pngcairo size 960,640 noenhanced font 'sans,11' background '#ffffff'\n";
  text += "  set output " + gnuplot_quote(png_temp.path()) + "\n";
  text += "  replot\n";
  text += "  set output\n";
  text += "}\n";
  io::write_file_atomically(script.path(), text);

  const int exit_code = run_gnuplot(gnuplot, script.path(), errors.path());
  if (exit_code != 0) {
    throw_io(fmt::format("gnuplot failed drawing '{}' (exit status {}): {}", svg, exit_code,
                         tail(io::read_whole_file(errors.path()), 600)),
             "check that the output directory is writable; the chart's numbers are in the CSV beside it");
  }
  if (std::filesystem::file_size(svg_temp.path()) == 0) {
    throw_io(fmt::format("gnuplot wrote nothing for '{}': {}", svg, tail(io::read_whole_file(errors.path()), 600)));
  }
  PlotFiles files;
  svg_temp.rename_to(svg);
  files.svg = svg;
  if (std::filesystem::file_size(png_temp.path()) > 0) {
    png_temp.rename_to(png);
    files.png = png;
  }
  return files;
}

}  // namespace cltv::eval::detail
