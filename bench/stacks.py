"""Summarise a py-spy collapsed-stack file (`--format raw`): the functions with the most samples.

    python -m bench.stacks bench/out/<run>/profile-profile.txt [--top 25]
"""
import argparse
from collections import Counter


def main():
    """Print inclusive and self sample shares per function."""
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--match", default="", help="only stacks containing this text")
    args = parser.parse_args()
    inclusive, own, total = Counter(), Counter(), 0
    for line in open(args.file):
        stack, _, count = line.rstrip().rpartition(" ")
        if args.match not in stack:
            continue
        count = int(count)
        frames = stack.split(";")
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    print(f"{total} samples")
    for title, counter in (("inclusive", inclusive), ("self", own)):
        print(f"--- {title}")
        for frame, count in counter.most_common(args.top):
            print(f"{count / total * 100:5.1f}%  {frame[:160]}")


if __name__ == "__main__":
    main()
