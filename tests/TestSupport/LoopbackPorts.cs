using System.Net;
using System.Net.Sockets;

namespace VlmRm.TestSupport;

/// <summary>Ports for the processes an integration test starts on loopback.</summary>
public static class LoopbackPorts
{
    private static readonly HashSet<int> HandedOut = [];

    /// <summary>
    /// A port nothing listens on now (the system's pick), for a process about to bind it; never one handed out before
    /// in this test process: the system can pick a released port again, and two silos of one cluster were once given
    /// the same dashboard port (one silo's dashboard then refused connections at the end of a four-silo run).
    /// </summary>
    public static int Free()
    {
        lock (HandedOut)
        {
            while (true)
            {
                using var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                if (HandedOut.Add(port)) return port;
            }
        }
    }
}
