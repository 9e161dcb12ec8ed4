package kho.analysis;

import java.io.IOException;
import java.text.Normalizer;
import java.util.HashMap;
import java.util.Map;

import org.apache.lucene.analysis.TokenFilter;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.Tokenizer;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.apache.lucene.analysis.tokenattributes.OffsetAttribute;
import org.apache.lucene.analysis.tokenattributes.PositionIncrementAttribute;
import org.apache.lucene.analysis.tokenattributes.PositionLengthAttribute;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.elasticsearch.index.analysis.TokenizerFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.elasticsearch.plugins.AnalysisPlugin;
import org.elasticsearch.plugins.Plugin;

/**
 * Kho's Vietnamese analysis for Elasticsearch, the same steps as search/analysis.py:
 *
 * <ul>
 *   <li>tokenizer {@code kho_syllable}: runs of letters and digits (Python {@code [^\W_]+}),
 *       runs longer than search.embedded.MAX_TOKEN_CHARS left out;</li>
 *   <li>filter {@code kho_normalize}: NFC, lower case, one tone-mark placement ("hoà" → "hòa");</li>
 *   <li>filter {@code kho_fold}: diacritics removed, đ → d (one character for one);</li>
 *   <li>filter {@code kho_pairs}: adjacent syllables joined by "_", no unigrams (the embedded
 *       index's {@code b} field).</li>
 * </ul>
 *
 * The official analysis-common module is not published for Elasticsearch 8 outside its
 * distributions, and its filters (asciifolding, mapping) differ in details from Kho's own
 * analysis anyway: this plugin makes both backends index exactly the same terms.
 */
public final class KhoAnalysisPlugin extends Plugin implements AnalysisPlugin {

    @Override
    public Map<String, AnalysisProvider<TokenizerFactory>> getTokenizers() {
        Map<String, AnalysisProvider<TokenizerFactory>> out = new HashMap<>();
        out.put("kho_syllable",
            (indexSettings, env, name, settings) -> TokenizerFactory.newFactory(name, SyllableTokenizer::new));
        return out;
    }

    @Override
    public Map<String, AnalysisProvider<TokenFilterFactory>> getTokenFilters() {
        Map<String, AnalysisProvider<TokenFilterFactory>> out = new HashMap<>();
        out.put("kho_normalize", (indexSettings, env, name, settings) -> factory(name, NormalizeFilter::new));
        out.put("kho_fold", (indexSettings, env, name, settings) -> factory(name, FoldFilter::new));
        out.put("kho_pairs", (indexSettings, env, name, settings) -> factory(name, PairsFilter::new));
        return out;
    }

    private interface Wrap {
        TokenStream wrap(TokenStream in);
    }

    private static TokenFilterFactory factory(String name, Wrap wrap) {
        return new TokenFilterFactory() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public TokenStream create(TokenStream in) {
                return wrap.wrap(in);
            }
        };
    }

    // --- character classes (Python's str.isalnum / \s) -------------------------------------

    static boolean isWord(int cp) {
        if (Character.isLetter(cp)) {
            return true;
        }
        int type = Character.getType(cp);
        return type == Character.DECIMAL_DIGIT_NUMBER || type == Character.LETTER_NUMBER
            || type == Character.OTHER_NUMBER;
    }

    static boolean isMark(int cp) {
        int type = Character.getType(cp);
        return type == Character.NON_SPACING_MARK || type == Character.COMBINING_SPACING_MARK
            || type == Character.ENCLOSING_MARK;
    }

    /** search.embedded.MAX_TOKEN_CHARS: longer letter/digit runs are not indexed. */
    static final int MAX_TOKEN_CHARS = 100;

    /** Syllables: runs of letters and digits. */
    static final class SyllableTokenizer extends Tokenizer {
        private final CharTermAttribute term = addAttribute(CharTermAttribute.class);
        private final OffsetAttribute offset = addAttribute(OffsetAttribute.class);
        private final PositionIncrementAttribute posInc = addAttribute(PositionIncrementAttribute.class);
        private String text;
        private int pos;

        @Override
        public void reset() throws IOException {
            super.reset();
            StringBuilder sb = new StringBuilder();
            char[] buf = new char[4096];
            int n;
            while ((n = input.read(buf)) > 0) {
                sb.append(buf, 0, n);
            }
            text = sb.toString();
            pos = 0;
        }

        @Override
        public boolean incrementToken() {
            clearAttributes();
            int len = text.length();
            while (true) {
                while (pos < len) {
                    int cp = text.codePointAt(pos);
                    if (isWord(cp)) {
                        break;
                    }
                    pos += Character.charCount(cp);
                }
                if (pos >= len) {
                    return false;
                }
                int start = pos;
                int count = 0;
                while (pos < len) {
                    int cp = text.codePointAt(pos);
                    // A combining mark inside a syllable is decomposed (NFD) text: it stays with
                    // its letter, and kho_normalize composes them (Python NFCs before splitting).
                    if (!isWord(cp) && !isMark(cp)) {
                        break;
                    }
                    pos += Character.charCount(cp);
                    if (!isMark(cp)) {
                        count++;
                    }
                }
                if (count > MAX_TOKEN_CHARS) {
                    continue;  // an encoded blob, not a syllable: not indexed (as the embedded index)
                }
                term.append(text, start, pos);
                offset.setOffset(correctOffset(start), correctOffset(pos));
                posInc.setPositionIncrement(1);
                return true;
            }
        }

        @Override
        public void end() throws IOException {
            super.end();
            int last = correctOffset(text == null ? 0 : text.length());
            offset.setOffset(last, last);
        }

        @Override
        public void close() throws IOException {
            super.close();
            text = null;
        }
    }

    // --- normalize / fold ------------------------------------------------------------------

    private static final String[] TONES = {"\u0300", "\u0301", "\u0309", "\u0303", "\u0323"};
    static final Map<String, String> PLACEMENT = new HashMap<>();
    static final Map<Integer, Character> FOLD = new HashMap<>();

    static {
        String[][] pairs = {{"o", "a"}, {"o", "e"}, {"u", "y"}};
        for (String[] p : pairs) {
            for (String tone : TONES) {
                PLACEMENT.put(p[0] + nfc(p[1] + tone), nfc(p[0] + tone) + p[1]);
            }
        }
        FOLD.put((int) 'đ', 'd');
        FOLD.put((int) 'Đ', 'D');
        for (int cp = 0x00C0; cp <= 0x1EFF; cp++) {
            String base = Normalizer.normalize(new String(Character.toChars(cp)), Normalizer.Form.NFD)
                .replaceAll("\\p{M}", "");
            if (base.length() == 1 && base.charAt(0) != cp && base.charAt(0) < 128) {
                FOLD.put(cp, base.charAt(0));
            }
        }
    }

    static String nfc(String s) {
        return Normalizer.normalize(s, Normalizer.Form.NFC);
    }

    static String normalize(String s) {
        String t = nfc(s);
        StringBuilder sb = new StringBuilder(t.length());
        t.codePoints().forEach(cp -> sb.appendCodePoint(Character.toLowerCase(cp)));
        for (int i = 0; i + 1 < sb.length(); i++) {
            String target = PLACEMENT.get(sb.substring(i, i + 2));
            if (target != null) {
                sb.replace(i, i + 2, target);
            }
        }
        return sb.toString();
    }

    static String fold(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        s.codePoints().forEach(cp -> {
            Character c = FOLD.get(cp);
            if (c != null) {
                sb.append(c.charValue());
            } else {
                sb.appendCodePoint(cp);
            }
        });
        return sb.toString();
    }

    static final class NormalizeFilter extends TokenFilter {
        private final CharTermAttribute term = addAttribute(CharTermAttribute.class);

        NormalizeFilter(TokenStream in) {
            super(in);
        }

        @Override
        public boolean incrementToken() throws IOException {
            if (!input.incrementToken()) {
                return false;
            }
            String out = normalize(term.toString());
            term.setEmpty().append(out);
            return true;
        }
    }

    static final class FoldFilter extends TokenFilter {
        private final CharTermAttribute term = addAttribute(CharTermAttribute.class);

        FoldFilter(TokenStream in) {
            super(in);
        }

        @Override
        public boolean incrementToken() throws IOException {
            if (!input.incrementToken()) {
                return false;
            }
            String out = fold(term.toString());
            term.setEmpty().append(out);
            return true;
        }
    }

    /** "a b c" → "a_b", "b_c"; a position gap (a removed token) starts again. */
    static final class PairsFilter extends TokenFilter {
        private final CharTermAttribute term = addAttribute(CharTermAttribute.class);
        private final OffsetAttribute offset = addAttribute(OffsetAttribute.class);
        private final PositionIncrementAttribute posInc = addAttribute(PositionIncrementAttribute.class);
        private final PositionLengthAttribute posLen = addAttribute(PositionLengthAttribute.class);
        private String prev;
        private int prevStart;
        private int pending;

        PairsFilter(TokenStream in) {
            super(in);
        }

        @Override
        public boolean incrementToken() throws IOException {
            while (input.incrementToken()) {
                String cur = term.toString();
                int inc = posInc.getPositionIncrement();
                int start = offset.startOffset();
                int end = offset.endOffset();
                String before = prev;
                int beforeStart = prevStart;
                prev = cur;
                prevStart = start;
                if (before == null || inc != 1) {
                    pending += inc;
                    continue;
                }
                term.setEmpty().append(before).append('_').append(cur);
                offset.setOffset(beforeStart, end);
                posInc.setPositionIncrement(pending > 0 ? pending : 1);
                posLen.setPositionLength(1);
                pending = 0;
                return true;
            }
            return false;
        }

        @Override
        public void reset() throws IOException {
            super.reset();
            prev = null;
            prevStart = 0;
            pending = 0;
        }
    }
}
