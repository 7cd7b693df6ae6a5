"""The core layer: records and their ids, errors, the stage protocol, the chain that runs
stages over a stream, text counting for CJK and spaced languages, decoding of bytes, asset and
cache locations. It imports nothing else of corpuskit."""
