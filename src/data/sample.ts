/**
 * Deterministic sample data as the note's users have it: Korean financial documents (company
 * reports, disclosures, news, earnings notes) for the collection `m_asset_schema`, with
 * self-provided vectors from a stand-in embedding.
 *
 * The stand-in embedding is feature hashing of character bigrams and trigrams into 64
 * dimensions (signed, L2-normalised): texts that share Korean syllable n-grams land close
 * together, which is enough for nearVector and hybrid search to behave sensibly in tests and
 * benchmarks. Real users bring real embeddings (their model's vectors, same dimension in the
 * query as in the collection).
 */

export const SAMPLE_COLLECTION = 'm_asset_schema';
export const EMBEDDING_DIMENSIONS = 64;
export const DEFAULT_SAMPLE_SIZE = 5_000;
const SEED = 20_240_101;

export interface Company {
  name: string;
  ticker: string;
  sector: string;
  keywords: readonly string[];
}

export const COMPANIES: readonly Company[] = Object.freeze([
  { name: '삼성전자', ticker: '005930', sector: '반도체', keywords: ['메모리', 'HBM', '파운드리', '스마트폰', 'D램'] },
  { name: 'SK하이닉스', ticker: '000660', sector: '반도체', keywords: ['HBM', 'D램', '낸드', 'AI 서버', '메모리'] },
  { name: '현대차', ticker: '005380', sector: '자동차', keywords: ['전기차', '하이브리드', '북미 판매', '제네시스', '환율'] },
  { name: '기아', ticker: '000270', sector: '자동차', keywords: ['전기차', 'EV9', '북미 판매', '수익성', '환율'] },
  { name: 'LG에너지솔루션', ticker: '373220', sector: '2차전지', keywords: ['배터리', '북미 공장', 'IRA', '수주', 'ESS'] },
  { name: '삼성SDI', ticker: '006400', sector: '2차전지', keywords: ['배터리', '각형 전지', '전고체', '수주', 'ESS'] },
  { name: '삼성바이오로직스', ticker: '207940', sector: '바이오', keywords: ['CDMO', '수주 잔고', '4공장', '바이오시밀러', '증설'] },
  { name: '셀트리온', ticker: '068270', sector: '바이오', keywords: ['바이오시밀러', '합병', '미국 출시', '신약', '임상'] },
  { name: 'NAVER', ticker: '035420', sector: '인터넷', keywords: ['검색 광고', '커머스', '웹툰', 'AI', '클라우드'] },
  { name: '카카오', ticker: '035720', sector: '인터넷', keywords: ['플랫폼', '광고', '카카오톡', '콘텐츠', 'AI'] },
  { name: 'POSCO홀딩스', ticker: '005490', sector: '철강', keywords: ['철강 가격', '리튬', '2차전지 소재', '중국 수요', '원가'] },
  { name: 'KB금융', ticker: '105560', sector: '금융', keywords: ['순이자마진', '배당', '주주환원', '대손비용', '자본비율'] },
  { name: '신한지주', ticker: '055550', sector: '금융', keywords: ['순이자마진', '자사주', '주주환원', '대손비용', '비은행'] },
  { name: 'LG화학', ticker: '051910', sector: '화학', keywords: ['석유화학', '양극재', '스프레드', '첨단소재', '증설'] },
  { name: '현대모비스', ticker: '012330', sector: '자동차부품', keywords: ['전동화', '부품', 'A/S', '수주', '자율주행'] },
  { name: '한국전력', ticker: '015760', sector: '유틸리티', keywords: ['전기요금', '연료비', '적자', '원전', '정책'] },
  { name: 'SK텔레콤', ticker: '017670', sector: '통신', keywords: ['5G', '배당', 'AI 데이터센터', '가입자', '요금제'] },
  { name: '삼성물산', ticker: '028260', sector: '건설', keywords: ['건설 수주', '지배구조', '바이오', '상사', '주주환원'] },
  { name: 'HMM', ticker: '011200', sector: '해운', keywords: ['운임', '컨테이너', '홍해', '선복량', '매각'] },
  { name: '한화에어로스페이스', ticker: '012450', sector: '방산', keywords: ['K9 자주포', '수출', '방산', '항공엔진', '폴란드'] },
]);

const DOC_TYPES = ['리포트', '공시', '뉴스', '실적발표'] as const;
const RATINGS = ['매수', '중립', '매도'] as const;
const TRENDS = ['개선', '둔화', '회복', '호조', '부진', '확대', '안정'] as const;
const BROKERS = ['미래에셋증권', '한국투자증권', 'NH투자증권', '삼성증권', 'KB증권', '키움증권'] as const;

export interface SampleDocument {
  doc_id: number;
  title: string;
  content: string;
  company: string;
  ticker: string;
  sector: string;
  doc_type: string;
  rating: string;
  broker: string;
  target_price: number;
  published_at: Date;
}

/** mulberry32: a tiny, fast, deterministic PRNG (same seed, same documents, on every machine). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)]!;
}

/** The `i`-th sample document (0-based); the same for a given index on every run. */
export function sampleDocument(i: number): SampleDocument {
  const rand = prng(SEED + i * 7919);
  const company = COMPANIES[i % COMPANIES.length]!;
  const keyword = pick(rand, company.keywords);
  const keyword2 = pick(rand, company.keywords);
  const trend = pick(rand, TRENDS);
  const docType = pick(rand, DOC_TYPES);
  const rating = pick(rand, RATINGS);
  const broker = pick(rand, BROKERS);
  const year = 2022 + Math.floor(rand() * 4);
  const quarter = 1 + Math.floor(rand() * 4);
  const month = (quarter - 1) * 3 + 1 + Math.floor(rand() * 3);
  const day = 1 + Math.floor(rand() * 28);
  const price = Math.round((20_000 + rand() * 480_000) / 100) * 100;
  const growth = (rand() * 40 - 10).toFixed(1);
  const margin = (rand() * 25).toFixed(1);
  const titles = [
    `${company.name} ${year}년 ${quarter}분기 실적 리뷰: ${keyword} ${trend}`,
    `${company.name}, ${keyword} 수요 ${trend}에 목표주가 ${price.toLocaleString('ko-KR')}원 제시`,
    `[${company.sector}] ${company.name} ${keyword} 전망 점검`,
    `${company.name} ${docType}: ${keyword2} 관련 ${trend} 신호`,
  ];
  const title = pick(rand, titles);
  const sentences = [
    `${broker}은 ${company.name}(${company.ticker})에 대해 투자의견 '${rating}'와 목표주가 ${price.toLocaleString('ko-KR')}원을 제시했다.`,
    `${year}년 ${quarter}분기 ${company.name}의 매출은 전년 대비 ${growth}% 변동했고 영업이익률은 ${margin}%를 기록했다.`,
    `${company.sector} 업종 전반의 ${keyword} ${trend} 흐름 속에서 ${company.name}의 ${keyword2} 경쟁력이 주목된다.`,
    `시장에서는 ${company.name}의 ${keyword} 사업이 하반기 실적의 핵심 변수가 될 것으로 본다.`,
    `${company.name} 경영진은 ${keyword2} 투자 확대와 주주환원 정책을 함께 추진하겠다고 밝혔다.`,
    `외국인 투자자는 최근 ${company.sector} 업종에서 ${company.name} 비중을 ${trend === '부진' ? '축소' : '확대'}했다.`,
  ];
  const count = 3 + Math.floor(rand() * 3);
  const content = Array.from({ length: count }, () => pick(rand, sentences)).join(' ');
  return {
    doc_id: i,
    title,
    content,
    company: company.name,
    ticker: company.ticker,
    sector: company.sector,
    doc_type: docType,
    rating,
    broker,
    target_price: price,
    published_at: new Date(Date.UTC(year, month - 1, day)),
  };
}

/** 32-bit FNV-1a of a string. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Stand-in embedding: signed feature hashing of character bigrams and trigrams (whitespace and
 * punctuation removed), L2-normalised. Deterministic; NOT a semantic model.
 */
export function embed(text: string, dimensions = EMBEDDING_DIMENSIONS): number[] {
  const v = new Array<number>(dimensions).fill(0);
  const chars = [...text.replace(/[\s.,:;'"()[\]!?%/-]+/g, '')];
  for (const n of [2, 3]) {
    for (let i = 0; i + n <= chars.length; i++) {
      const h = fnv1a(chars.slice(i, i + n).join(''));
      v[h % dimensions]! += h & 0x80000000 ? -1 : 1;
    }
  }
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => Math.round((x / norm) * 1e6) / 1e6);
}

/** The embedding of a document: title weighted twice, then the body. */
export function embedDocument(doc: Pick<SampleDocument, 'title' | 'content'>): number[] {
  return embed(`${doc.title} ${doc.title} ${doc.content}`);
}
