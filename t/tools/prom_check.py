#!/usr/bin/env python3
# prom_check.py: parses Prometheus text (stdin) with the Prometheus client
# library's own parser; prints "name type samples" per family, and each
# sample as "  name{labels} value"; exits 1 on a parse error
import sys
from prometheus_client.parser import text_string_to_metric_families

try:
    for f in text_string_to_metric_families(sys.stdin.read()):
        print(f.name, f.type, len(f.samples))
        for s in f.samples:
            labels = ",".join('%s="%s"' % kv for kv in sorted(s.labels.items()))
            print("  %s{%s} %r" % (s.name, labels, s.value))
except Exception as e:
    print("parse error:", e, file=sys.stderr)
    sys.exit(1)
