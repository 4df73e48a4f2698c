// replaced by the metrics module
