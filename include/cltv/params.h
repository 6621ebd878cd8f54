// Parameter declarations: each parameter is declared once (name, type, default, check,
// description) and command-line parsing, validation, --help and config files derive from it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cltv {

// What a parameter's value names on disk or in object storage, for the check that no command
// writes over a file it reads or writes elsewhere (storage::check_distinct_paths).
enum class PathRole { none, input, output };

class ParamSet {
 public:
  struct Param {
    std::string name;          // kebab-case; the flag is --name, the config key is name
    std::string value_name;    // N, X, DATE, PATH, ... (empty for flags)
    std::string description;   // one line; the default and allowed values are appended
    std::string default_text;  // shown in --help; empty when there is none
    bool required = false;
    bool is_flag = false;      // takes no value
    std::function<void(const std::string&)> apply;  // parse, check, store; throws config error
    PathRole path_role = PathRole::none;
    // The location the value names ("" for none); absent: the value itself.
    std::function<std::string(const std::string&)> path_of = {};
  };

  // A location named by a parameter that was set: the flag, the location text and its role.
  struct NamedPath {
    std::string flag;  // "--out"
    std::string location;
    PathRole role = PathRole::none;
  };

  // Integers and numbers in [min, max].
  void add_int(const std::string& name, int64_t& target, int64_t default_value, int64_t min, int64_t max,
               const std::string& description, const std::string& value_name = "N");
  // An integer in [min, max] or one of WORDS (each standing for a value); unset (nullopt) unless
  // given, DEFAULT_TEXT saying what that means.
  void add_optional_int(const std::string& name, std::optional<int64_t>& target, int64_t min, int64_t max,
                        const std::string& description, const std::string& default_text,
                        std::vector<std::pair<std::string, int64_t>> words = {});
  void add_number(const std::string& name, double& target, double default_value, double min, double max,
                  const std::string& description, const std::string& value_name = "X");
  void add_text(const std::string& name, std::string& target, const std::string& default_value,
                const std::string& description, const std::string& value_name = "TEXT");
  void add_required_text(const std::string& name, std::string& target, const std::string& description,
                         const std::string& value_name = "PATH");
  void add_choice(const std::string& name, std::string& target, const std::string& default_value,
                  const std::vector<std::string>& choices, const std::string& description);
  // Dates as seconds since 1970-01-01 (YYYY-MM-DD, YYYYMMDD or YYYY-MM).
  void add_date(const std::string& name, std::optional<int64_t>& target, bool required,
                const std::string& description);
  void add_flag(const std::string& name, bool& target, const std::string& description);
  // Anything else: APPLY parses and stores the text.
  void add_custom(Param param);

  const std::vector<Param>& params() const { return params_; }
  bool contains(const std::string& name) const;
  // Makes the existing parameter NAME also pass its checked value to ALSO (one flag feeding two
  // settings, such as --threads for parsing and for a model).
  void also_apply(const std::string& name, std::function<void(const std::string&)> also);
  // Adds PARAM, or when a parameter of that name exists makes it also apply PARAM (declarations
  // copied from another set that share a flag, such as --threads).
  void add_or_share(Param param);
  // Marks the existing parameter NAME as naming a file read (input) or written (output);
  // PATH_OF finds the location in the value when it is not the value itself.
  void mark_path(const std::string& name, PathRole role,
                 std::function<std::string(const std::string&)> path_of = {});
  // Applies TEXT to the parameter NAME (command line and config files) and remembers it; unknown
  // names list the valid ones.
  void set(const std::string& name, const std::string& text);
  // Applies every key of the JSON object in the file PATH as set() would (numbers and booleans as
  // written, arrays joined with commas; a flag set to false is left off). Errors name the file and key.
  void apply_config_file(const std::string& path);
  // The locations named by the parameters set so far that have a path role.
  std::vector<NamedPath> named_paths() const;

 private:
  std::vector<Param> params_;
  std::vector<std::pair<std::string, std::string>> set_values_;  // name, text, in the order set
};

}  // namespace cltv
