"""The only place LLM-written code runs: a separate worker process with allowlisted builtins and imports,
no dunder access, resource limits and an audit hook; the host side speaks to it over a pipe."""
