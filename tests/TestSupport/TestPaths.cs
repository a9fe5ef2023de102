namespace VlmRm.TestSupport;

/// <summary>Where tests find the repository, the shared data beside it, and where they leave artifacts for people to look at.</summary>
public static class TestPaths
{
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>PNGs, MP4s and screenshots tests write; VLMRM_TEST_OUTPUT overrides it.</summary>
    public static string ArtifactsDirectory(string area)
    {
        var root = Environment.GetEnvironmentVariable("VLMRM_TEST_OUTPUT") is { Length: > 0 } configured
            ? configured
            : Path.Combine(RepositoryRoot, "artifacts", "test-output");
        var folder = Path.Combine(root, area);
        Directory.CreateDirectory(folder);
        return folder;
    }

    /// <summary>The shared folder beside the checkout (read-only data: paper assets, tokenizer), or null when absent.</summary>
    public static string? SharedDirectory
    {
        get
        {
            var configured = Environment.GetEnvironmentVariable("VLMRM_SHARED");
            var candidate = configured is { Length: > 0 } ? configured : Path.Combine(RepositoryRoot, "..", "shared");
            return Directory.Exists(candidate) ? Path.GetFullPath(candidate) : null;
        }
    }

    /// <summary>The paper's reference environment assets, or null when they are not on this machine.</summary>
    public static string? PaperAssetsDirectory =>
        SharedDirectory is { } shared && Directory.Exists(Path.Combine(shared, "assets", "vlmrm"))
            ? Path.Combine(shared, "assets", "vlmrm")
            : null;

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "VlmRm.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException($"VlmRm.sln not found above {AppContext.BaseDirectory}.");
    }
}
