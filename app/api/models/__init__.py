"""The response models of the HTTP API, one module per noun; OpenAPI is generated from them."""
