namespace VlmRm.Rl;

/// <summary>Where TorchSharp trains a run.</summary>
public enum DeviceChoice
{
    /// <summary>CUDA when TorchSharp sees a device, else the CPU.</summary>
    Auto,
    Cpu,
    Cuda,
}
