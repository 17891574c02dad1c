"""The local web page: step through backpropagation and train in the browser (extra: web)."""
