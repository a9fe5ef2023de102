namespace VlmRm.Envs.Hosting;

/// <summary>
/// The labelling page and the silo's dashboard have no authentication: they listen on this machine only, unless
/// an explicit option says otherwise (a container behind a cluster-internal service, a proxy that authenticates).
/// </summary>
public static class LoopbackBinding
{
    /// <param name="urls">ASP.NET Core URLs, separated by ';' (as --urls takes them).</param>
    /// <param name="setting">The setting the URLs came from, named in the error.</param>
    /// <param name="allowRemote">Whether that explicit option was given: any address is then accepted.</param>
    /// <param name="allowOption">The explicit option, named in the error.</param>
    public static void Require(string urls, string setting, bool allowRemote, string allowOption)
    {
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var wildcard = url.Contains("://*", StringComparison.Ordinal) || url.Contains("://+", StringComparison.Ordinal);
            Uri? uri = null;
            if (!wildcard && !(Uri.TryCreate(url, UriKind.Absolute, out uri) && uri.Scheme is "http" or "https"))
            {
                throw new ArgumentException($"{setting}: '{url}' is not a URL (e.g. http://127.0.0.1:8080).");
            }
            var local = uri is not null && (uri.IsLoopback || uri.Host == "localhost");
            if (!local && !allowRemote)
            {
                throw new ArgumentException($"{setting} {url} listens beyond this machine, and what it serves has no authentication. " +
                                            $"Use http://127.0.0.1:<port>, or set {allowOption} to expose it on purpose (behind something that authenticates).");
            }
        }
    }
}
