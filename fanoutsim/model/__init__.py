"""The virtual-time cost and latency model for fan-outs too large to run live."""
