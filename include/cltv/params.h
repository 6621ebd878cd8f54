// Parameter declarations: each parameter is declared once (name, type, default, check,
// description) and command-line parsing, validation, --help and config files derive from it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace cltv {

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
  };

  // Integers and numbers in [min, max].
  void add_int(const std::string& name, int64_t& target, int64_t default_value, int64_t min, int64_t max,
               const std::string& description, const std::string& value_name = "N");
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
  // Applies TEXT to the parameter NAME (config files); unknown names list the valid ones.
  void set(const std::string& name, const std::string& text) const;
  // Applies every key of the JSON object in the file PATH as set() would (numbers and booleans as
  // written, arrays joined with commas; a flag set to false is left off). Errors name the file and key.
  void apply_config_file(const std::string& path) const;

 private:
  std::vector<Param> params_;
};

}  // namespace cltv
