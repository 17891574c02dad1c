"""What is read and written: spec files, model files (a network and its run) and the built-in examples."""
