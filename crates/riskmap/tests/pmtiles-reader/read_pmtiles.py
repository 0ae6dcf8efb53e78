"""Lists every tile of a PMTiles archive as JSON, with protomaps' `pmtiles`
reader (independent of the Rust writer): header, metadata, and for each tile
z/x/y, its length as stored and its bytes gunzipped (hex).

usage: python read_pmtiles.py ARCHIVE.pmtiles > tiles.json
"""

import gzip
import json
import sys

from pmtiles.reader import MmapSource, Reader, all_tiles
from pmtiles.tile import Compression, TileType


def main(path):
    with open(path, "rb") as f:
        get_bytes = MmapSource(f)
        reader = Reader(get_bytes)
        header = reader.header()
        gzipped = header["tile_compression"] == Compression.GZIP
        tiles = []
        for (z, x, y), data in all_tiles(get_bytes):
            raw = gzip.decompress(data) if gzipped else data
            tiles.append(
                {"z": z, "x": x, "y": y, "stored_bytes": len(data), "bytes": len(raw), "hex": raw.hex()}
            )
        out = {
            "spec_version": header["version"],
            "tile_type": "mvt" if header["tile_type"] == TileType.MVT else str(header["tile_type"]),
            "tile_compression": "gzip" if gzipped else str(header["tile_compression"]),
            "min_zoom": header["min_zoom"],
            "max_zoom": header["max_zoom"],
            "addressed_tiles_count": header["addressed_tiles_count"],
            "metadata": reader.metadata(),
            "tiles": tiles,
        }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
