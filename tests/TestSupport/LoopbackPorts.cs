using System.Net;
using System.Net.Sockets;

namespace VlmRm.TestSupport;

/// <summary>Ports for the processes an integration test starts on loopback.</summary>
public static class LoopbackPorts
{
    /// <summary>A port nothing listens on now (the system's pick), for a process about to bind it.</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
