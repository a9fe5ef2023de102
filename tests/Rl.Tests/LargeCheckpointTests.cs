using VlmRm.Rl.Checkpoints;

namespace VlmRm.Rl.Tests;

/// <summary>
/// A checkpoint past <see cref="int.MaxValue"/> bytes, what a 700k-transition Humanoid buffer needs. It runs alone: its
/// memory check counts every allocation in the process, and tests training beside it allocate hundreds of MB.
/// </summary>
[Collection(RunAloneForProcessWideMeasurement.Name)]
public class LargeCheckpointTests
{
    private const long Size = (2L << 30) + 12_345;

    /// <summary>How far the bytes read from the source may run ahead of the bytes on disk: the write buffers, no more.</summary>
    private const long MostAheadOfDisk = 64L << 20;

    [Fact]
    public async Task A_checkpoint_over_2_GiB_streams_through_the_file_store_without_being_held_in_memory()
    {
        var ct = TestContext.Current.CancellationToken;
        var root = ScratchDirectoryWithRoomFor(Size);
        if (root is null) Assert.Skip($"neither {Path.GetTempPath()} nor /dev/shm has {Size / 1e9:F1} GB free for the checkpoint");
        try
        {
            var store = new FileCheckpointStore(root);
            var allocated = GC.GetTotalAllocatedBytes(precise: true);
            var source = new PatternStream(Size, onRead: handedOut =>
            {
                var onDisk = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
                if (handedOut - onDisk > MostAheadOfDisk) throw new InvalidOperationException($"{handedOut - onDisk:N0} bytes read from the source are not on disk yet: the store buffers the checkpoint");
            });
            var info = await store.SaveAsync("big", "step-1", source, 1, 0, isBest: true, ct);
            Assert.Equal(Size, info.Bytes);
            using (var loaded = await store.LoadLatestAsync("big", ct))
            {
                Assert.Equal(Size, loaded!.Content.Length);
                loaded.Content.Position = Size - 3;
                var tail = new byte[3];
                loaded.Content.ReadExactly(tail);
                Assert.Equal(PatternStream.Bytes(Size - 3, 3), tail);
            }
            var allocatedMb = (GC.GetTotalAllocatedBytes(precise: true) - allocated) >> 20;
            Assert.True(allocatedMb < 256, $"saving and loading allocated {allocatedMb} MB: the checkpoint was buffered in memory");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>A new folder in the temp folder, else in RAM-backed /dev/shm: a CI machine has been seen with a few hundred MB of disk free.</summary>
    private static string? ScratchDirectoryWithRoomFor(long bytes) =>
        new[] { Path.GetTempPath(), "/dev/shm" }
            .Where(folder => Directory.Exists(folder) && new DriveInfo(folder).AvailableFreeSpace > bytes + (256L << 20))
            .Select(folder => Directory.CreateDirectory(Path.Combine(folder, $"vlmrm-big-checkpoint-{Guid.NewGuid():N}")).FullName)
            .FirstOrDefault();

    /// <summary>
    /// A read-only stream of <paramref name="length"/> bytes whose byte i is a function of i (period 251), held nowhere;
    /// <paramref name="onRead"/> sees how many bytes it has handed out before each read.
    /// </summary>
    private sealed class PatternStream(long length, Action<long> onRead) : Stream
    {
        private const int Period = 251;
        private static readonly byte[] Cycle = [.. Enumerable.Range(0, Period + (1 << 20)).Select(i => At(i))];
        public static byte[] Bytes(long from, int count) => [.. Enumerable.Range(0, count).Select(i => At(from + i))];
        private static byte At(long i) => (byte)(i * 31 % Period);
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get; set; }
        public override int Read(byte[] buffer, int offset, int count)
        {
            onRead(Position);
            var n = (int)Math.Min(Math.Min(count, 1 << 20), length - Position);
            Cycle.AsSpan((int)(Position % Period), n).CopyTo(buffer.AsSpan(offset, n));
            Position += n;
            return n;
        }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

/// <summary>Tests in this collection run after the parallel ones, one at a time, so a process-wide measurement sees only them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RunAloneForProcessWideMeasurement
{
    public const string Name = "process-wide measurement";
}
