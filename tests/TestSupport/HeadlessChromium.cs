using System.Diagnostics;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;

namespace VlmRm.TestSupport;

/// <summary>
/// Debian's chromium, headless, driven over the Chrome DevTools Protocol (a WebSocket): navigate, run
/// JavaScript in the page as a person's clicks would, take screenshots.
/// </summary>
public sealed class HeadlessChromium : IAsyncDisposable
{
    public const string Missing = "Debian's chromium is not installed (./vlmrm setup installs it)";

    private readonly Process _process;
    private readonly string _profile;
    private readonly ClientWebSocket _socket = new();
    private int _nextId;

    private HeadlessChromium(Process process, string profile)
    {
        _process = process;
        _profile = profile;
    }

    private static readonly string[] Candidates = ["/usr/bin/chromium", "/usr/bin/chromium-browser"];

    public static string? Executable => Candidates.FirstOrDefault(File.Exists);

    public static async Task<HeadlessChromium> StartAsync(CancellationToken cancellationToken)
    {
        var profile = Directory.CreateTempSubdirectory("vlmrm-chromium-").FullName;
        var start = new ProcessStartInfo(Executable!) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in new[] { "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--remote-debugging-port=0", $"--user-data-dir={profile}", "--window-size=1280,1400", "about:blank" })
        {
            start.ArgumentList.Add(arg);
        }
        var process = Process.Start(start)!;
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var browser = new HeadlessChromium(process, profile);
        var portFile = Path.Combine(profile, "DevToolsActivePort");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!File.Exists(portFile) || File.ReadAllLines(portFile).Length < 2)
        {
            if (process.HasExited || DateTime.UtcNow > deadline) throw new InvalidOperationException($"chromium did not open its DevTools port (exited: {process.HasExited}).");
            await Task.Delay(100, cancellationToken);
        }
        var port = int.Parse(File.ReadAllLines(portFile)[0], System.Globalization.CultureInfo.InvariantCulture);
        using var http = new HttpClient();
        var targets = await http.GetFromJsonAsync<JsonElement>($"http://127.0.0.1:{port}/json/list", cancellationToken);
        var page = targets.EnumerateArray().First(t => t.GetProperty("type").GetString() == "page");
        await browser._socket.ConnectAsync(new Uri(page.GetProperty("webSocketDebuggerUrl").GetString()!), cancellationToken);
        return browser;
    }

    public async Task<JsonElement> SendAsync(string method, object? parameters, CancellationToken cancellationToken)
    {
        var id = ++_nextId;
        var message = JsonSerializer.SerializeToUtf8Bytes(new { id, method, @params = parameters ?? new { } });
        await _socket.SendAsync(message, WebSocketMessageType.Text, true, cancellationToken);
        var buffer = new byte[1 << 16];
        while (true)
        {
            using var received = new MemoryStream();
            WebSocketReceiveResult result;
            do
            {
                result = await _socket.ReceiveAsync(buffer, cancellationToken);
                received.Write(buffer, 0, result.Count);
            }
            while (!result.EndOfMessage);
            var reply = JsonDocument.Parse(received.ToArray()).RootElement;
            if (!reply.TryGetProperty("id", out var replyId) || replyId.GetInt32() != id) continue; // an event
            if (reply.TryGetProperty("error", out var error)) throw new InvalidOperationException($"{method}: {error}");
            return reply.GetProperty("result").Clone();
        }
    }

    /// <summary>Evaluates a JavaScript expression in the page (promises awaited) and returns its value.</summary>
    public async Task<JsonElement> EvaluateAsync(string expression, CancellationToken cancellationToken)
    {
        var result = await SendAsync("Runtime.evaluate", new { expression, awaitPromise = true, returnByValue = true }, cancellationToken);
        if (result.TryGetProperty("exceptionDetails", out var exception)) throw new InvalidOperationException($"Page script failed: {exception}");
        return result.GetProperty("result").TryGetProperty("value", out var value) ? value.Clone() : default;
    }

    public async Task NavigateAsync(string url, CancellationToken cancellationToken)
    {
        await SendAsync("Page.navigate", new { url }, cancellationToken);
        await WaitForAsync("document.readyState === 'complete'", cancellationToken);
    }

    public async Task WaitForAsync(string condition, CancellationToken cancellationToken, double seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var value = await EvaluateAsync($"!!({condition})", cancellationToken);
            if (value.ValueKind == JsonValueKind.True) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"The page never satisfied: {condition}");
            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>The page as it looks in the viewport, or the whole page.</summary>
    public async Task<byte[]> ScreenshotAsync(CancellationToken cancellationToken, bool wholePage = true)
    {
        var result = await SendAsync("Page.captureScreenshot", new { format = "png", captureBeyondViewport = wholePage }, cancellationToken);
        return Convert.FromBase64String(result.GetProperty("data").GetString()!);
    }

    /// <summary>Makes the viewport the size of a laptop screen (CSS pixels, scale 1).</summary>
    public Task SetViewportAsync(int width, int height, CancellationToken cancellationToken) =>
        SendAsync("Emulation.setDeviceMetricsOverride", new { width, height, deviceScaleFactor = 1, mobile = false }, cancellationToken);

    /// <summary>Presses and releases one key as the keyboard would (trusted events, to whatever has the focus).</summary>
    /// <param name="key">A DOM key value: a character ("1", "z", " ") or a name ("ArrowRight", "Enter", "Escape").</param>
    public async Task PressAsync(string key, CancellationToken cancellationToken)
    {
        var (code, virtualKey, text) = key switch
        {
            "ArrowRight" => ("ArrowRight", 39, ""),
            "ArrowLeft" => ("ArrowLeft", 37, ""),
            "Enter" => ("Enter", 13, "\r"),
            "Escape" => ("Escape", 27, ""),
            " " => ("Space", 32, " "),
            "," => ("Comma", 188, ","),
            "." => ("Period", 190, "."),
            [var c] when char.IsAsciiDigit(c) => ($"Digit{c}", (int)c, key),
            [var c] when char.IsAsciiLetterLower(c) => ($"Key{char.ToUpperInvariant(c)}", (int)char.ToUpperInvariant(c), key),
            _ => throw new ArgumentException($"No key mapping for '{key}'.", nameof(key)),
        };
        await SendAsync("Input.dispatchKeyEvent", new { type = text.Length > 0 ? "keyDown" : "rawKeyDown", key, code, windowsVirtualKeyCode = virtualKey, text }, cancellationToken);
        await SendAsync("Input.dispatchKeyEvent", new { type = "keyUp", key, code, windowsVirtualKeyCode = virtualKey }, cancellationToken);
    }

    /// <summary>Types text into whatever has the focus, as an input method would.</summary>
    public Task TypeAsync(string text, CancellationToken cancellationToken) => SendAsync("Input.insertText", new { text }, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open) await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        }
        catch (WebSocketException)
        {
            // chromium may already be closing the socket
        }
        _socket.Dispose();
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
            // a crash reporter may still hold a file for a moment; the temp folder is left behind
        }
    }
}
