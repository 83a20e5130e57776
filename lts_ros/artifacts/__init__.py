"""What the exporters write and the backends read, as files: the ONNX export's manifest (``export_manifest``),
the TensorRT engine cache and its manifests (``engine_cache``) and where both go when no dir is configured or
the configured one is read-only (``cache_root``). Plain Python over files: no torch, no TensorRT, no ROS."""
