/// `/console/assets/console.css`: readable at 1280x800 and on a narrow window, visible focus, no web fonts.
enum ConsoleStylesheet {
    static let text = """
        :root{--ink:#201f1e;--muted:#605e5c;--line:#c8c6c4;--bg:#faf9f8;--card:#fff;--accent:#0f6cbd;
        --ok:#107c10;--bad:#c50f1f;--warn:#8a5a00;font-family:system-ui,-apple-system,"Segoe UI",sans-serif}
        *{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--ink);line-height:1.45}
        .skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem;z-index:9}
        .bar{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1.5rem;padding:.6rem 1.5rem;background:#fff;
        border-bottom:1px solid var(--line)}
        .brand{font-weight:700;color:var(--ink);text-decoration:none;font-size:1.1rem}
        nav ul{display:flex;flex-wrap:wrap;gap:.25rem;margin:0;padding:0;list-style:none}
        nav a{display:block;padding:.35rem .7rem;border-radius:4px;color:var(--ink);text-decoration:none}
        nav a:hover{background:#f3f2f1}nav a[aria-current=page]{background:#ebf3fc;color:var(--accent);font-weight:600}
        .who{margin-left:auto;display:flex;align-items:center;gap:.75rem;flex-wrap:wrap}
        .who form{margin:0}.muted{color:var(--muted)}
        main{max-width:80rem;margin:0 auto;padding:1.25rem 1.5rem 3rem}main:focus{outline:none}
        h1{font-size:1.6rem;margin:.5rem 0}h2{font-size:1.2rem;margin:.75rem 0}h3{font-size:1.05rem;margin:.5rem 0}
        .lead{max-width:60rem}.card{background:var(--card);border:1px solid var(--line);border-radius:6px;
        padding:1rem 1.25rem;margin:1rem 0}.narrow{max-width:36rem;margin:3rem auto}
        .row{display:flex;align-items:center;gap:1rem;flex-wrap:wrap}.spread{justify-content:space-between}
        .actions{display:flex;gap:.5rem;flex-wrap:wrap;align-items:center}
        .scroll{overflow-x:auto;position:relative}table{border-collapse:collapse;width:100%;margin:.5rem 0}
        th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid #edebe9;vertical-align:top}
        thead th{font-weight:600;color:var(--muted);border-bottom:1px solid var(--line)}
        code{font-family:ui-monospace,Consolas,monospace;font-size:.85em;word-break:break-all}
        td code{word-break:normal;white-space:nowrap}
        button,.button{font:inherit;padding:.4rem .9rem;border-radius:4px;border:1px solid var(--accent);
        background:var(--accent);color:#fff;cursor:pointer;text-decoration:none;display:inline-block}
        button.secondary,.button.secondary{background:#fff;color:var(--accent)}
        button.danger{background:#fff;color:var(--bad);border-color:var(--bad)}
        button.link{background:none;border:none;color:var(--accent);padding:0;text-decoration:underline}
        :focus-visible{outline:3px solid #005a9e;outline-offset:2px}
        input,select,textarea{font:inherit;padding:.35rem .5rem;border:1px solid #8a8886;border-radius:4px;
        background:#fff;color:var(--ink);max-width:100%}
        label{display:block;font-weight:600;margin:.6rem 0 .2rem}label.switch{display:flex;gap:.5rem;align-items:center;
        font-weight:400}input[type=checkbox]{width:1.2rem;height:1.2rem}
        textarea{width:100%;font-family:ui-monospace,Consolas,monospace;font-size:.85rem}
        dialog{border:1px solid var(--line);border-radius:8px;padding:1.25rem 1.5rem;width:min(36rem,94vw)}
        dialog::backdrop{background:rgba(0,0,0,.35)}dialog input,dialog select{width:100%}
        dialog .actions{margin-top:1rem}
        .error{color:var(--bad);font-weight:600;margin:.4rem 0}.error:empty{display:none}
        .banner{background:#fff4ce;border:1px solid #f9e2ae;padding:.75rem 1rem;border-radius:6px;margin:1rem 0}
        .badge{display:inline-block;font-size:.75rem;padding:.05rem .45rem;border-radius:999px;background:#f3f2f1;
        border:1px solid var(--line);color:var(--muted)}
        .pill{display:inline-block;font-size:.8rem;padding:.05rem .5rem;border-radius:999px;font-weight:600;
        border:1px solid currentColor}
        .pill.allowed{color:var(--ok)}.pill.blocked{color:var(--bad)}.pill.would_block{color:var(--warn)}
        .pill.unenforced,.pill.error{color:var(--muted)}
        .filters{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:flex-end}.filters .actions{padding-bottom:.1rem}
        .question{display:grid;grid-template-columns:repeat(auto-fill,minmax(16rem,1fr));gap:.25rem 1rem;align-items:end}
        .question input,.question select{width:100%}
        .answer.allowed{border-left:6px solid var(--ok)}.answer.blocked{border-left:6px solid var(--bad)}
        .matrix td,.matrix th{text-align:center;white-space:nowrap}.matrix th[scope=row]{text-align:left}
        .matrix td.blocked{background:#fde7e9}.matrix td.would_block{background:#fff4ce}.matrix td.allowed{background:#dff6dd}
        .count{font-weight:700}.suggestions{list-style:none;padding:0}
        .suggestions li{display:flex;justify-content:space-between;align-items:center;gap:1rem;padding:.4rem 0;
        border-bottom:1px solid #edebe9;flex-wrap:wrap}
        .partner{border-top:1px solid var(--line);margin-top:1rem;padding-top:.5rem}
        tr.fresh{animation:fresh 2s ease-out}@keyframes fresh{from{background:#ebf3fc}to{background:transparent}}
        .visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
        @media (max-width:40rem){.bar{padding:.5rem .75rem}main{padding:.75rem}.who{margin-left:0}
        th,td{padding:.35rem .4rem}h1{font-size:1.35rem}}
        @media (prefers-reduced-motion:reduce){tr.fresh{animation:none}}
        """
}
