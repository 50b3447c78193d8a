"""Request and response models (pydantic), several generated from losscore's specs."""
