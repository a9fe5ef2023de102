using TorchSharp;
using TorchSharp.Modules;
using VlmRm.Clip.Export;
using VlmRm.Rl.Algorithms;
using static TorchSharp.torch;

namespace VlmRm.ClipTraining.Model;

/// <summary>
/// OpenCLIP's model in TorchSharp, written op for op like the ONNX graph <see cref="ClipWeights"/> exports
/// (pre-LN blocks, separate q/k/v projections, QuickGELU, class-token and end-of-text pooling), so the trained
/// weights export without conversion and the two forward passes agree to float rounding.
/// </summary>
public sealed class ClipModule : nn.Module
{
    private const double PatchKernelGain = 4;

    private readonly ClipArchitecture _arch;
    private readonly Conv2d? conv1;
    private readonly Parameter? class_embedding;
    private readonly Parameter? visual_positional_embedding;
    private readonly LayerNorm? ln_pre;
    private readonly ModuleList<TransformerBlock>? visual_blocks;
    private readonly LayerNorm? ln_post;
    private readonly Parameter? visual_proj;
    private readonly LayerNorm? image_head_norm;
    private readonly Linear? image_head_hidden;
    private readonly Linear? image_head_out;
    private readonly Embedding? token_embedding;
    private readonly Parameter? positional_embedding;
    private readonly ModuleList<TransformerBlock>? text_blocks;
    private readonly LayerNorm? ln_final;
    private readonly Parameter? text_projection;
    private readonly Linear? text_head;
    private readonly Parameter logit_scale;

    /// <param name="withTextTower">false for an image tower trained into a locked pretrained text tower's space (no text weights).</param>
    /// <param name="lockedTextHead">Without a text tower: train a residual head on the locked tower's embeddings (<see cref="LockedTextHead"/>).</param>
    /// <param name="lockedImageFeatures">
    /// The pooled feature width of a locked pretrained image tower: the module has no ViT, and its image path is a head
    /// from those features (LayerNorm, a hidden ReLU layer, a projection) that <see cref="EncodeImage"/> takes instead
    /// of pixels. 0: the ViT image tower of <paramref name="arch"/>.
    /// </param>
    public ClipModule(ClipArchitecture arch, bool withTextTower = true, bool lockedTextHead = false, int lockedImageFeatures = 0) : base(nameof(ClipModule))
    {
        arch.Validate();
        _arch = arch;
        var tw = arch.TextWidth;
        if (lockedImageFeatures > 0)
        {
            image_head_norm = nn.LayerNorm(lockedImageFeatures);
            image_head_hidden = nn.Linear(lockedImageFeatures, Clip.Export.LockedImageHead.HiddenWidth);
            image_head_out = nn.Linear(Clip.Export.LockedImageHead.HiddenWidth, arch.EmbedDim);
        }
        else
        {
            (conv1, class_embedding, visual_positional_embedding, ln_pre, visual_blocks, ln_post, visual_proj) = VisionTower(arch);
        }
        if (withTextTower)
        {
            token_embedding = nn.Embedding(arch.VocabularySize, tw);
            nn.init.normal_(token_embedding.weight, std: 0.02);
            positional_embedding = new Parameter(randn(arch.ContextLength, tw) * HeldScalars.Of(0.01));
            text_blocks = new ModuleList<TransformerBlock>(Enumerable.Range(0, arch.TextLayers).Select(_ => new TransformerBlock(tw, arch.TextHeads)).ToArray());
            ln_final = nn.LayerNorm(tw);
            text_projection = new Parameter(randn(tw, arch.EmbedDim) * HeldScalars.Of(Math.Pow(tw, -0.5)));
        }
        else if (lockedTextHead)
        {
            text_head = nn.Linear(arch.EmbedDim, arch.EmbedDim);
            using (no_grad())
            {
                // Zero: the residual head starts as the identity, the pretrained space unchanged.
                text_head.weight!.zero_();
                text_head.bias!.zero_();
            }
        }
        logit_scale = new Parameter(tensor((float)Math.Log(1 / 0.07)));
        RegisterComponents();
    }

    private static (Conv2d, Parameter, Parameter, LayerNorm, ModuleList<TransformerBlock>, LayerNorm, Parameter) VisionTower(ClipArchitecture arch)
    {
        var vw = arch.VisionWidth;
        // OpenCLIP's initialization scales, except for the patch projection. These scenes are a flat background with a
        // thin pole or a small car: with OpenCLIP's init a CartPole frame embeds the same whatever the pole's angle
        // (cosine 0.9999 upright vs fallen), and when the patch projection trains with the rest, Adam's first steps
        // move it with the background's gradient (every flat patch agrees) and the image tower collapses to one
        // embedding for every frame within ten steps (measured; it never recovered). So, as MoCo v3 (Chen et al.
        // 2021) does against ViT instability, the projection is random and frozen, and each kernel starts with its
        // spatial mean removed (and ×4): a flat patch embeds as zero and leaves its token to its position, so the
        // few patches with content dominate. Trained this way the same model separates the pole's angles in 150 steps.
        var patches = nn.Conv2d(3, vw, arch.PatchSize, stride: arch.PatchSize, bias: false);
        using (no_grad())
        {
            var kernel = patches.weight!;
            kernel.add_(kernel.mean([2, 3], keepdim: true), HeldScalars.Of(-1)).mul_(HeldScalars.Of(PatchKernelGain));
            kernel.requires_grad = false;
        }
        var classEmbedding = new Parameter(randn(vw) * HeldScalars.Of(Math.Pow(vw, -0.5)));
        var positions = new Parameter(randn(arch.Grid * arch.Grid + 1, vw) * HeldScalars.Of(Math.Pow(vw, -0.5)));
        var lnPre = nn.LayerNorm(vw);
        var blocks = new ModuleList<TransformerBlock>(Enumerable.Range(0, arch.VisionLayers).Select(_ => new TransformerBlock(vw, arch.VisionHeads)).ToArray());
        var lnPost = nn.LayerNorm(vw);
        var projection = new Parameter(randn(vw, arch.EmbedDim) * HeldScalars.Of(Math.Pow(vw, -0.5)));
        return (patches, classEmbedding, positions, lnPre, blocks, lnPost, projection);
    }

    public ClipArchitecture Architecture => _arch;

    /// <summary>Whether the module trains its own text tower (false: texts are embedded by a locked pretrained one).</summary>
    public bool HasTextTower => text_projection is not null;

    /// <summary>CLIP's learned temperature, exp(logit_scale), capped at 100 as in OpenCLIP.</summary>
    public Tensor LogitScale => logit_scale.clamp(max: HeldScalars.Of(Math.Log(100))).exp();

    /// <summary>Whether the image path is a head on a locked pretrained tower's features rather than a ViT.</summary>
    public bool HasLockedImageTower => image_head_out is not null;

    /// <summary>Image embeddings [N, embed] of normalized pixels [N, 3, S, S], or of a locked tower's pooled features [N, F].</summary>
    public Tensor EncodeImage(Tensor pixels)
    {
        using var scope = NewDisposeScope();
        if (image_head_norm is not null && image_head_hidden is not null && image_head_out is not null)
        {
            return image_head_out.forward(nn.functional.relu(image_head_hidden.forward(image_head_norm.forward(pixels)))).MoveToOuterDisposeScope();
        }
        if (conv1 is null || class_embedding is null || visual_positional_embedding is null || ln_pre is null || visual_blocks is null || ln_post is null || visual_proj is null)
        {
            throw new InvalidOperationException("This module has no image tower of its own.");
        }
        var patches = conv1.forward(pixels).flatten(2).transpose(1, 2); // [N, grid², width]
        var n = pixels.shape[0];
        var classes = class_embedding.view(1, 1, -1).expand(n, 1, _arch.VisionWidth);
        var x = cat([classes, patches], 1).Plus(visual_positional_embedding);
        x = ln_pre.forward(x);
        foreach (var block in visual_blocks) x = block.forward(x, null);
        var pooled = ln_post.forward(x.select(1, 0));
        return pooled.matmul(visual_proj).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Text embeddings [N, embed] of token ids [N, L], L ≤ the context length. Under the causal mask the end-of-text
    /// position sees only what precedes it, so ids cut after the longest text's end token give the same embeddings
    /// as the full 77-token context the exported tower takes.
    /// </summary>
    public Tensor EncodeText(Tensor tokens)
    {
        if (token_embedding is null || positional_embedding is null || text_blocks is null || ln_final is null || text_projection is null)
        {
            throw new InvalidOperationException("This module has no text tower: its texts are embedded by the locked pretrained tower it was trained against.");
        }
        using var scope = NewDisposeScope();
        var length = tokens.shape[1];
        var x = token_embedding.forward(tokens).Plus(positional_embedding.narrow(0, 0, length));
        var mask = full(length, length, HeldScalars.Of(float.NegativeInfinity), device: tokens.device).triu(1);
        foreach (var block in text_blocks) x = block.forward(x, mask);
        x = ln_final.forward(x);
        // The end-of-text token has the highest id in every sequence.
        var eot = tokens.argmax(-1);
        var pooled = x[arange(tokens.shape[0], device: tokens.device), eot];
        return pooled.matmul(text_projection).MoveToOuterDisposeScope();
    }

    /// <summary>The locked tower's embeddings [N, D] as the model uses them: through the residual head where there is one.</summary>
    public Tensor ProjectLockedText(Tensor embeddings) => text_head is null ? embeddings : embeddings.Plus(text_head.forward(embeddings));

    /// <summary>The trained residual head in the exporter's layout, or null.</summary>
    public LockedTextHead? LockedTextHead() => text_head is null ? null : new LockedTextHead(Values(text_head.weight!.t()), Values(text_head.bias!));

    /// <summary>The trained head on a locked image tower's features in the exporter's layout, or null.</summary>
    public LockedImageHead? LockedImageHead()
    {
        if (image_head_norm is null || image_head_hidden is null || image_head_out is null) return null;
        using var _ = no_grad();
        return new LockedImageHead(
            Values(image_head_norm.weight!), Values(image_head_norm.bias!),
            Values(image_head_hidden.weight!.t()), Values(image_head_hidden.bias!),
            Values(image_head_out.weight!.t()), Values(image_head_out.bias!));
    }

    /// <summary>The weights in the exporter's layout (matrices [in, out]); no text weights without a text tower.</summary>
    public ClipWeights ToWeights()
    {
        using var _ = no_grad();
        if (conv1 is null || class_embedding is null || visual_positional_embedding is null || ln_pre is null || visual_blocks is null || ln_post is null || visual_proj is null)
        {
            throw new InvalidOperationException("This module's image path is a head on a locked pretrained tower: export it with LockedImageHead().");
        }
        var vision = new VisionWeights(
            Values(conv1.weight!), Values(class_embedding), Values(visual_positional_embedding),
            Values(ln_pre.weight!), Values(ln_pre.bias!),
            visual_blocks.Select(b => b.ToWeights()).ToArray(),
            Values(ln_post.weight!), Values(ln_post.bias!), Values(visual_proj));
        var text = token_embedding is null || positional_embedding is null || text_blocks is null || ln_final is null || text_projection is null ? null : new TextWeights(
            Values(token_embedding.weight!), Values(positional_embedding),
            text_blocks.Select(b => b.ToWeights()).ToArray(),
            Values(ln_final.weight!), Values(ln_final.bias!), Values(text_projection));
        return new ClipWeights(_arch, vision, text);
    }

    /// <summary>A tensor's values, row-major, as float32.</summary>
    public static float[] Values(Tensor t) => t.detach().cpu().contiguous().data<float>().ToArray();
}

/// <summary>One pre-LN residual block: x + Attention(LN(x)), then x + MLP(LN(x)) with QuickGELU.</summary>
internal sealed class TransformerBlock : nn.Module<Tensor, Tensor?, Tensor>
{
    private readonly int _heads;
    private readonly LayerNorm ln_1;
    private readonly Linear q_proj;
    private readonly Linear k_proj;
    private readonly Linear v_proj;
    private readonly Linear out_proj;
    private readonly LayerNorm ln_2;
    private readonly Linear c_fc;
    private readonly Linear c_proj;

    public TransformerBlock(int width, int heads) : base(nameof(TransformerBlock))
    {
        _heads = heads;
        ln_1 = nn.LayerNorm(width);
        q_proj = nn.Linear(width, width);
        k_proj = nn.Linear(width, width);
        v_proj = nn.Linear(width, width);
        out_proj = nn.Linear(width, width);
        ln_2 = nn.LayerNorm(width);
        c_fc = nn.Linear(width, 4 * width);
        c_proj = nn.Linear(4 * width, width);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor? mask)
    {
        var (n, t, width) = (x.shape[0], x.shape[1], x.shape[2]);
        var headDim = width / _heads;
        var h = ln_1.forward(x);
        var q = q_proj.forward(h).view(n, t, _heads, headDim).transpose(1, 2);
        var k = k_proj.forward(h).view(n, t, _heads, headDim).permute(0, 2, 3, 1);
        var v = v_proj.forward(h).view(n, t, _heads, headDim).transpose(1, 2);
        var scores = q.matmul(k) * HeldScalars.Of(1 / Math.Sqrt(headDim));
        if (mask is not null) scores = scores.Plus(mask);
        var context = scores.softmax(-1).matmul(v).transpose(1, 2).reshape(n, t, width);
        x = x.Plus(out_proj.forward(context));
        var hidden = c_fc.forward(ln_2.forward(x));
        hidden = hidden * (hidden * HeldScalars.Of(1.702)).sigmoid();
        return x.Plus(c_proj.forward(hidden));
    }

    public BlockWeights ToWeights()
    {
        static float[] Matrix(Linear linear) => ClipModule.Values(linear.weight!.t());
        static float[] Bias(Linear linear) => ClipModule.Values(linear.bias!);
        return new BlockWeights(
            ClipModule.Values(ln_1.weight!), ClipModule.Values(ln_1.bias!),
            Matrix(q_proj), Bias(q_proj), Matrix(k_proj), Bias(k_proj), Matrix(v_proj), Bias(v_proj), Matrix(out_proj), Bias(out_proj),
            ClipModule.Values(ln_2.weight!), ClipModule.Values(ln_2.bias!),
            Matrix(c_fc), Bias(c_fc), Matrix(c_proj), Bias(c_proj));
    }
}
