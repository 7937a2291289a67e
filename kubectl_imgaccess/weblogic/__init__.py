"""The operator's semantics: which pods of a Domain pull which images, with which pull path. Pure."""
