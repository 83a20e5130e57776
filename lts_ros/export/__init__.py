"""Deployment exports: ONNX graphs plus a manifest (model.json) that rebuilds the runtime alone."""
