using System.Runtime.InteropServices;

namespace VlmRm.Client;

/// <summary>
/// The first Ctrl+C or SIGTERM (a batch scheduler's pre-emption, <c>kill</c>, a closed terminal) cancels
/// <see cref="Token"/>, and the running command stops cleanly and chooses the exit code (a training run checkpoints its
/// step and exits with 130); a second one is left to the runtime's default action, which ends the process at once.
/// </summary>
/// <remarks>
/// System.CommandLine's own handling cancelled on the signal's thread, where the command's continuations could then
/// run inline, and under load the process once ended with the signal's 143 instead of the command's 130. Here the handler
/// only marks the signal handled and requests the cancellation off its thread, so the command's return is the exit code.
/// </remarks>
internal sealed class GracefulTermination : IDisposable
{
    private readonly CancellationTokenSource _cancellation = new();
    private readonly PosixSignalRegistration[] _registrations;
    private int _signals;

    public GracefulTermination()
    {
        _registrations = [PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal), PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal)];
    }

    public CancellationToken Token => _cancellation.Token;

    private void OnSignal(PosixSignalContext context)
    {
        if (Interlocked.Increment(ref _signals) > 1) return;
        context.Cancel = true;
        Console.Error.WriteLine($"{context.Signal}: stopping cleanly; send it again to end the process now.");
        _ = _cancellation.CancelAsync();
    }

    public void Dispose()
    {
        foreach (var registration in _registrations) registration.Dispose();
        _cancellation.Dispose();
    }
}
